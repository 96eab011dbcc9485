//! Connection slots counted in all and per client address: how the SFTP server bounds logins
//! in progress and the web's front door bounds open connections. Taking a slot is refused when
//! every slot, or the address's share, is held; a slot is given back when dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The slots: at most `total` held, at most `per_address` by one address.
pub struct Slots {
    total: usize,
    per_address: usize,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One connection's slot; given back when dropped.
pub struct Slot {
    slots: Arc<Slots>,
    address: IpAddr,
}

impl Slots {
    pub fn new(total: usize, per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            total,
            per_address,
            held: Mutex::default(),
        })
    }

    /// A slot for a connection from `address`, or `None` when all, or that address's share,
    /// are taken.
    pub fn take(self: &Arc<Self>, address: IpAddr) -> Option<Slot> {
        self.take_unless_exempt(address, false)
    }

    /// As [`Slots::take`]; an `exempt` address (a trusted proxy, which carries everybody's
    /// connections) is held to the total only.
    pub fn take_unless_exempt(self: &Arc<Self>, address: IpAddr, exempt: bool) -> Option<Slot> {
        // The counts stay consistent even if a holder panicked: carry on with them.
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let mine = held.by_address.get(&address).copied().unwrap_or(0);
        if held.total >= self.total || (!exempt && mine >= self.per_address) {
            return None;
        }
        held.total += 1;
        held.by_address.insert(address, mine + 1);
        Some(Slot {
            slots: Arc::clone(self),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|p| p.into_inner());
        held.total = held.total.saturating_sub(1);
        if let Some(mine) = held.by_address.get_mut(&self.address) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                held.by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_in_all_and_per_address_and_given_back() {
        let slots = Slots::new(3, 2);
        let (a, b, c): (IpAddr, IpAddr, IpAddr) = (
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            "192.0.2.3".parse().unwrap(),
        );
        let a1 = slots.take(a).unwrap();
        let _a2 = slots.take(a).unwrap();
        assert!(slots.take(a).is_none(), "one address's share is 2");
        let _b1 = slots.take(b).unwrap();
        assert!(slots.take(c).is_none(), "3 in all");
        drop(a1);
        let _a3 = slots.take(a).expect("a slot given back is free again");
        assert!(slots.take(c).is_none());
    }

    #[test]
    fn an_exempt_address_is_held_to_the_total_only() {
        let slots = Slots::new(3, 1);
        let proxy: IpAddr = "192.0.2.9".parse().unwrap();
        let held: Vec<_> = (0..3)
            .map(|_| slots.take_unless_exempt(proxy, true).unwrap())
            .collect();
        assert!(slots.take_unless_exempt(proxy, true).is_none());
        drop(held);
        assert!(slots.take(proxy).is_some());
    }
}
