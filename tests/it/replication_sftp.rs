//! Replication to a standby over SFTP: the real Litestream replicates both database files to a
//! real OpenSSH server (`sshd`, started by the test on a free port with keys of its own), and a
//! standby restores from there whole. Needs root (sshd's privilege separation) and Debian's
//! `openssh-server`, which scripts/test installs.

use super::replication::{configured, copy_audit_key, litestream, Replicating};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A throwaway OpenSSH server on 127.0.0.1, accepting `client_key` for root; killed on drop.
struct Sshd(Child);

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn keygen(path: &Path) {
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

fn start_sshd(dir: &Path) -> (Sshd, u16) {
    let sshd = Path::new("/usr/sbin/sshd");
    assert!(
        sshd.exists(),
        "sshd is missing: install Debian's openssh-server (scripts/test does)"
    );
    std::fs::create_dir_all("/run/sshd").unwrap();
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile none\n\
             UsePAM no\nPasswordAuthentication no\nPubkeyAuthentication yes\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\n\
             PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let child = Command::new(sshd)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Sshd(child), port)
}

fn sftp_config(dir: &Path, port: u16, litestream: &Path) -> String {
    format!(
        "[jobs]\ninbox_scan = \"\"\n[replication]\nreplica = \"sftp://root@127.0.0.1:{port}{d}/replica\"\n\
         sftp_key = \"{d}/client_key\"\nlitestream = \"{}\"\n",
        litestream.display(),
        d = dir.display()
    )
}

#[test]
fn a_standby_restores_whole_from_a_replica_on_another_server_over_sftp() {
    let litestream = litestream();
    let place = tempfile::tempdir().unwrap();
    let (_sshd, port) = start_sshd(place.path());
    let config = sftp_config(place.path(), port, &litestream);
    let env = configured(&config);
    env.load_sample_feeds();
    let settings = place.path().join("litestream.yml");
    std::fs::write(&settings, env.ok(&["replication", "config"]).stdout).unwrap();

    let replicating = Replicating::start(&litestream, &settings);
    let deadline = Instant::now() + Duration::from_secs(30);
    let shipped = |db: &str| place.path().join("replica").join(db).join("ltx").is_dir();
    while !(shipped("sharedcare") && shipped("sharedcare-audit")) {
        assert!(
            Instant::now() < deadline,
            "nothing reached the SFTP replica"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    replicating.stop();
    let persons = env.count("SELECT count(*) FROM person");
    let entries = env.count("SELECT count(*) FROM entry");

    let standby = configured(&config);
    copy_audit_key(&env, &standby);
    let restored = standby.ok(&["replication", "restore", "--json"]).json();
    assert_eq!(restored["integrity"], "ok", "{restored}");
    assert_eq!(restored["audit_ok"], true, "{restored}");
    assert_eq!(restored["counts"]["persons"], persons);
    assert_eq!(restored["counts"]["entries"], entries);
    standby.ok(&["audit", "verify"]);
}
