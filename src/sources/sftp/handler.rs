//! The SFTP protocol for one session of one source: upload, list, rename and delete inside the
//! jail (see `jail`), and nothing else.
//!
//! An upload is written to the source's upload area and handed to the importer only when the
//! client closes its handle: that close is the one moment the file is known complete. A client
//! that disconnects without closing (a dropped line, a killed `sftp`) leaves no file anywhere
//! the importer looks, and its partial file is removed when the session ends. Files with a
//! temporary name (`x.part`) stay in the upload area on close and are handed over when the
//! client renames them to their final name.
//!
//! Reading files back is refused: a source's account exists to deliver, and what it delivered
//! is patient data the sending system already has.

use super::jail::{is_temporary, resolve, Area, Place, Resolved, UNSAFE_NAME};
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, FileMode, Handle, Name, OpenFlags, Status, StatusCode,
    Version,
};
use russh_sftp::server::StatusReply;
use std::collections::HashMap;
use std::os::unix::fs::{FileExt, OpenOptionsExt};

enum Open {
    Upload {
        name: String,
        file: std::fs::File,
        /// A write went over the size limit or the quota: the file is discarded at close.
        refused: bool,
        /// How large this file may grow before the source's waiting files pass its quota.
        quota_room: u64,
    },
    Dir {
        sent: bool,
    },
}

pub struct SftpSession {
    source: String,
    area: Area,
    max_bytes: u64,
    /// Bytes the source's waiting files (uploads and inbox) may take together.
    quota: u64,
    handles: HashMap<String, Open>,
    next_handle: u64,
}

type Reply<T> = Result<T, StatusReply>;

fn fail(code: StatusCode, message: &str) -> StatusReply {
    code.with_message(message)
}

fn io_reply(e: &std::io::Error) -> StatusReply {
    match e.kind() {
        std::io::ErrorKind::NotFound => StatusCode::NoSuchFile.into(),
        std::io::ErrorKind::AlreadyExists => fail(
            StatusCode::Failure,
            "a file of that name is already waiting to be imported",
        ),
        std::io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied.into(),
        _ => fail(StatusCode::Failure, "the server could not store the file"),
    }
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

fn dir_attrs() -> FileAttributes {
    FileAttributes {
        size: Some(0),
        uid: Some(0),
        gid: Some(0),
        permissions: Some(0o700 | FileMode::DIR.bits()),
        ..FileAttributes::empty()
    }
}

/// Attributes of a file as the client sees it: owner and real permissions are not its business.
fn file_attrs(meta: &std::fs::Metadata) -> FileAttributes {
    let mut a = FileAttributes::from(meta);
    a.uid = Some(0);
    a.gid = Some(0);
    a.user = None;
    a.group = None;
    a.permissions = Some(0o600 | FileMode::REG.bits());
    a
}

impl SftpSession {
    pub fn new(source: String, area: Area, max_bytes: u64, quota: u64) -> Self {
        Self {
            source,
            area,
            max_bytes,
            quota,
            handles: HashMap::new(),
            next_handle: 0,
        }
    }

    fn name(path: &str) -> Reply<String> {
        match resolve(path) {
            Resolved::File(n) => Ok(n),
            // OpenSSH's client shows the code ("Permission denied"); others show the words.
            Resolved::Unsafe => Err(fail(StatusCode::PermissionDenied, UNSAFE_NAME)),
            Resolved::Root => Err(fail(StatusCode::Failure, "/ is a directory")),
            Resolved::Nothing => Err(StatusCode::NoSuchFile.into()),
        }
    }

    fn is_open(&self, name: &str) -> bool {
        self.handles
            .values()
            .any(|h| matches!(h, Open::Upload { name: n, .. } if n == name))
    }

    fn too_big(&self) -> StatusReply {
        fail(
            StatusCode::Failure,
            &format!(
                "the file is larger than this server accepts ({} bytes)",
                self.max_bytes
            ),
        )
    }

    fn over_quota(&self) -> StatusReply {
        fail(
            StatusCode::Failure,
            &format!(
                "the files waiting for import from this source would pass its quota ({} bytes); \
                 try again once they are imported, or ask the operator about [sftp] \
                 source_quota_bytes",
                self.quota
            ),
        )
    }

    fn add_handle(&mut self, open: Open) -> String {
        self.next_handle += 1;
        let h = self.next_handle.to_string();
        self.handles.insert(h.clone(), open);
        h
    }

    fn stat_path(&self, id: u32, path: &str) -> Reply<Attrs> {
        let attrs = match resolve(path) {
            Resolved::Root => dir_attrs(),
            Resolved::File(n) => match self.area.find(&n) {
                Some((_, m)) => file_attrs(&m),
                None => return Err(StatusCode::NoSuchFile.into()),
            },
            Resolved::Nothing | Resolved::Unsafe => return Err(StatusCode::NoSuchFile.into()),
        };
        Ok(Attrs { id, attrs })
    }
}

impl Drop for SftpSession {
    fn drop(&mut self) {
        for open in self.handles.values() {
            if let Open::Upload { name, .. } = open {
                if std::fs::remove_file(self.area.upload_path(name)).is_ok() {
                    log::info!(
                        "sftp: {}: an upload was abandoned before it was closed; discarded",
                        self.source
                    );
                }
            }
        }
    }
}

impl russh_sftp::server::Handler for SftpSession {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.into()
    }

    async fn init(&mut self, _version: u32, _ext: HashMap<String, String>) -> Reply<Version> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Reply<Name> {
        let shown = match resolve(&path) {
            Resolved::Root => "/".to_owned(),
            Resolved::File(n) => format!("/{n}"),
            Resolved::Nothing | Resolved::Unsafe => return Err(StatusCode::NoSuchFile.into()),
        };
        Ok(Name {
            id,
            files: vec![File::dummy(shown)],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Reply<Attrs> {
        self.stat_path(id, &path)
    }

    async fn lstat(&mut self, id: u32, path: String) -> Reply<Attrs> {
        self.stat_path(id, &path)
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Reply<Attrs> {
        match self.handles.get(&handle) {
            Some(Open::Upload { file, .. }) => file
                .metadata()
                .map(|m| Attrs {
                    id,
                    attrs: file_attrs(&m),
                })
                .map_err(|e| io_reply(&e)),
            Some(Open::Dir { .. }) => Ok(Attrs {
                id,
                attrs: dir_attrs(),
            }),
            None => Err(StatusCode::Failure.into()),
        }
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Reply<Handle> {
        let name = Self::name(&filename)?;
        if !pflags.contains(OpenFlags::WRITE) || pflags.contains(OpenFlags::READ) {
            return Err(fail(
                StatusCode::PermissionDenied,
                "files can be uploaded here, not read back",
            ));
        }
        if self.is_open(&name) {
            return Err(fail(StatusCode::Failure, "that file is already open"));
        }
        // Refused here when already full, where the client shows the reason; a write that
        // would pass it is refused too (clients show only "Failure" for a write).
        let waiting = self.area.waiting_bytes();
        if waiting >= self.quota {
            return Err(self.over_quota());
        }
        let file = self
            .area
            .create(
                &name,
                pflags.contains(OpenFlags::TRUNCATE),
                pflags.contains(OpenFlags::EXCLUDE),
            )
            .map_err(|e| io_reply(&e))?;
        // This file's own bytes (kept when not truncated) are already counted in `waiting`.
        let own = file.metadata().map(|m| m.len()).unwrap_or(0);
        let quota_room = self.quota.saturating_sub(waiting.saturating_sub(own));
        let handle = self.add_handle(Open::Upload {
            name,
            file,
            refused: false,
            quota_room,
        });
        Ok(Handle { id, handle })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Reply<Status> {
        let max = self.max_bytes;
        let (too_big, over_quota) = (self.too_big(), self.over_quota());
        match self.handles.get_mut(&handle) {
            Some(Open::Upload {
                file,
                refused,
                quota_room,
                ..
            }) => {
                let end = offset.saturating_add(data.len() as u64);
                if *refused || end > max {
                    *refused = true;
                    return Err(too_big);
                }
                if end > *quota_room {
                    *refused = true;
                    return Err(over_quota);
                }
                file.write_all_at(&data, offset)
                    .map(|()| ok(id))
                    .map_err(|e| io_reply(&e))
            }
            _ => Err(StatusCode::Failure.into()),
        }
    }

    async fn read(&mut self, _id: u32, _handle: String, _offset: u64, _len: u32) -> Reply<Data> {
        Err(StatusCode::PermissionDenied.into())
    }

    async fn fsetstat(&mut self, id: u32, handle: String, attrs: FileAttributes) -> Reply<Status> {
        let too_big = self.too_big();
        match self.handles.get_mut(&handle) {
            Some(Open::Upload { file, refused, .. }) => match attrs.size {
                Some(size) if size > self.max_bytes => {
                    *refused = true;
                    Err(too_big)
                }
                // scp sets the final length this way after writing.
                Some(size) => file
                    .set_len(size)
                    .map(|()| ok(id))
                    .map_err(|e| io_reply(&e)),
                None => Ok(ok(id)),
            },
            Some(Open::Dir { .. }) => Ok(ok(id)),
            None => Err(StatusCode::Failure.into()),
        }
    }

    async fn setstat(&mut self, id: u32, path: String, attrs: FileAttributes) -> Reply<Status> {
        let Some(size) = attrs.size else {
            // Times and permissions are accepted and ignored: they mean nothing here.
            return self.stat_path(id, &path).map(|_| ok(id));
        };
        let name = Self::name(&path)?;
        if size > self.max_bytes {
            return Err(self.too_big());
        }
        match self.area.find(&name) {
            Some((Place::Uploads, _)) => std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(self.area.upload_path(&name))
                .and_then(|f| f.set_len(size))
                .map(|()| ok(id))
                .map_err(|e| io_reply(&e)),
            Some((Place::Inbox, _)) => Err(fail(
                StatusCode::PermissionDenied,
                "the file has been handed over for import",
            )),
            None => Err(StatusCode::NoSuchFile.into()),
        }
    }

    async fn close(&mut self, id: u32, handle: String) -> Reply<Status> {
        match self.handles.remove(&handle) {
            Some(Open::Upload {
                name,
                file,
                refused,
                ..
            }) => {
                let area = self.area.clone();
                let source = self.source.clone();
                let done = rocket::tokio::task::spawn_blocking(move || {
                    finish_upload(&area, &source, &name, file, refused)
                })
                .await
                .map_err(|_| fail(StatusCode::Failure, "the server could not store the file"))?;
                done.map(|()| ok(id))
            }
            Some(Open::Dir { .. }) => Ok(ok(id)),
            None => Err(StatusCode::Failure.into()),
        }
    }

    async fn opendir(&mut self, id: u32, path: String) -> Reply<Handle> {
        match resolve(&path) {
            Resolved::Root => {
                let handle = self.add_handle(Open::Dir { sent: false });
                Ok(Handle { id, handle })
            }
            Resolved::File(_) => Err(fail(StatusCode::Failure, "not a directory")),
            Resolved::Nothing | Resolved::Unsafe => Err(StatusCode::NoSuchFile.into()),
        }
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Reply<Name> {
        match self.handles.get_mut(&handle) {
            Some(Open::Dir { sent }) if !*sent => {
                *sent = true;
                let files = self
                    .area
                    .list()
                    .iter()
                    .map(|(n, m)| File::new(n.clone(), file_attrs(m)))
                    .collect();
                Ok(Name { id, files })
            }
            Some(Open::Dir { .. }) => Err(StatusCode::Eof.into()),
            _ => Err(StatusCode::Failure.into()),
        }
    }

    async fn remove(&mut self, id: u32, filename: String) -> Reply<Status> {
        let name = Self::name(&filename)?;
        if self.is_open(&name) {
            return Err(fail(StatusCode::Failure, "that file is still open"));
        }
        self.area
            .remove(&name)
            .map(|()| ok(id))
            .map_err(|e| io_reply(&e))
    }

    async fn rename(&mut self, id: u32, oldpath: String, newpath: String) -> Reply<Status> {
        let (from, to) = (Self::name(&oldpath)?, Self::name(&newpath)?);
        if self.is_open(&from) {
            return Err(fail(
                StatusCode::Failure,
                "close the file before renaming it",
            ));
        }
        match self.area.find(&from) {
            Some((Place::Uploads, _)) => {}
            Some((Place::Inbox, _)) => {
                return Err(fail(
                    StatusCode::PermissionDenied,
                    "the file has been handed over for import",
                ))
            }
            None => return Err(StatusCode::NoSuchFile.into()),
        }
        let moved = if is_temporary(&to) {
            self.area.rename_pending(&from, &to)
        } else {
            self.area.publish(&from, &to)
        };
        moved.map(|()| ok(id)).map_err(|e| io_reply(&e))?;
        if !is_temporary(&to) {
            log::info!(
                "sftp: {}: a renamed upload was handed over for import",
                self.source
            );
        }
        Ok(ok(id))
    }

    async fn mkdir(&mut self, _id: u32, _path: String, _a: FileAttributes) -> Reply<Status> {
        Err(fail(StatusCode::PermissionDenied, "no folders here"))
    }

    async fn rmdir(&mut self, _id: u32, _path: String) -> Reply<Status> {
        Err(fail(StatusCode::PermissionDenied, "no folders here"))
    }

    async fn symlink(&mut self, _id: u32, _link: String, _target: String) -> Reply<Status> {
        Err(fail(StatusCode::PermissionDenied, "no links here"))
    }

    async fn readlink(&mut self, _id: u32, _path: String) -> Reply<Name> {
        Err(fail(StatusCode::PermissionDenied, "no links here"))
    }
}

/// The client closed an upload: make it durable, then hand it over (or discard a refused one).
fn finish_upload(
    area: &Area,
    source: &str,
    name: &str,
    file: std::fs::File,
    refused: bool,
) -> Reply<()> {
    let path = area.upload_path(name);
    if refused {
        drop(file);
        let _ = std::fs::remove_file(&path);
        return Ok(());
    }
    // On disk before the importer can see it: a crash after the hand-over must not leave a
    // truncated file in the inbox.
    file.sync_all().map_err(|e| io_reply(&e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    drop(file);
    if is_temporary(name) {
        return Ok(());
    }
    area.publish(name, name).map_err(|e| io_reply(&e))?;
    log::info!("sftp: {source}: an upload of {size} bytes was handed over for import");
    Ok(())
}
