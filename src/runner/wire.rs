//! The conversation between parity and a measuring helper ([`super::measure`]): framed
//! messages, each a little-endian `u32` length and that many bytes.
//!
//! parity → helper, on a Unix socket that is the helper's stdin (the only way to hand it the
//! run's pipes, as `SCM_RIGHTS`):
//!
//! - [`Request::Run`]: the command, the variables set for it and its working directory, with
//!   two descriptors attached: the write ends of the run's stdout and stderr pipes;
//! - [`Request::Stop`]: stop the run in progress (a timeout or an interruption). One that
//!   arrives after the run ended is ignored.
//!
//! helper → parity, on a pipe that is the helper's stdout: [`Report::Started`] with the side's
//! pid (the leader of its process group) once it runs, then [`Report::Done`] with its
//! [`Usage`] (only `Done` when it could not start).
//!
//! Paths, arguments and variables travel as bytes, so nothing is lost to an encoding.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::usage::Usage;

/// The largest message either side accepts (a command line is at most a few MiB).
const MAX_MESSAGE: usize = 64 << 20;

const RUN: u8 = b'R';
const STOP: u8 = b'S';
const STARTED: u8 = b'P';
const DONE: u8 = b'D';

/// What parity asks of a helper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Run {
        argv: Vec<OsString>,
        env: Vec<(OsString, OsString)>,
        cwd: PathBuf,
    },
    Stop,
}

/// What a helper tells parity.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    Started { pid: i32 },
    Done(Usage),
}

impl Request {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Request::Run { argv, env, cwd } => {
                out.push(RUN);
                put_count(&mut out, argv.len());
                for arg in argv {
                    put_bytes(&mut out, arg.as_bytes());
                }
                put_count(&mut out, env.len());
                for (key, value) in env {
                    put_bytes(&mut out, key.as_bytes());
                    put_bytes(&mut out, value.as_bytes());
                }
                put_bytes(&mut out, cwd.as_os_str().as_bytes());
            }
            Request::Stop => out.push(STOP),
        }
        out
    }

    pub fn decode(payload: &[u8]) -> io::Result<Request> {
        let mut reader = Fields(payload);
        match reader.byte()? {
            RUN => {
                let argv = (0..reader.count()?)
                    .map(|_| reader.os_string())
                    .collect::<io::Result<Vec<_>>>()?;
                let env = (0..reader.count()?)
                    .map(|_| Ok((reader.os_string()?, reader.os_string()?)))
                    .collect::<io::Result<Vec<_>>>()?;
                let cwd = PathBuf::from(reader.os_string()?);
                Ok(Request::Run { argv, env, cwd })
            }
            STOP => Ok(Request::Stop),
            other => Err(malformed(&format!("unknown request {other:#x}"))),
        }
    }
}

impl Report {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Report::Started { pid } => {
                let mut out = vec![STARTED];
                out.extend_from_slice(&pid.to_le_bytes());
                out
            }
            Report::Done(usage) => {
                let mut out = vec![DONE];
                // A Usage always serialises (plain numbers and strings).
                out.extend(serde_json::to_vec(usage).unwrap_or_default());
                out
            }
        }
    }

    pub fn decode(payload: &[u8]) -> io::Result<Report> {
        match payload.split_first() {
            Some((&STARTED, pid)) => {
                let pid: [u8; 4] = pid.try_into().map_err(|_| malformed("bad pid"))?;
                Ok(Report::Started {
                    pid: i32::from_le_bytes(pid),
                })
            }
            Some((&DONE, usage)) => serde_json::from_slice(usage)
                .map(Report::Done)
                .map_err(|e| malformed(&e.to_string())),
            _ => Err(malformed("unknown report")),
        }
    }
}

/// The frame of `payload`: its length, then itself.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// The payload length announced by a frame's header, checked against the limit.
pub fn payload_len(header: [u8; 4]) -> io::Result<usize> {
    let len = u32::from_le_bytes(header) as usize;
    if len > MAX_MESSAGE {
        return Err(malformed("message too large"));
    }
    Ok(len)
}

/// Writes one framed message (blocking).
pub fn write_message(mut to: impl Write, payload: &[u8]) -> io::Result<()> {
    to.write_all(&frame(payload))?;
    to.flush()
}

/// Reads one framed message (blocking); `None` at a clean end of the stream.
pub fn read_message(mut from: impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match from.read(&mut header[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut payload = vec![0u8; payload_len(header)?];
    from.read_exact(&mut payload)?;
    Ok(Some(payload))
}

/// Sends one framed message on a (blocking) Unix socket, with `fds` attached to its first
/// bytes.
pub fn send_with_fds(
    socket: &std::os::unix::net::UnixStream,
    payload: &[u8],
    fds: &[RawFd],
) -> io::Result<()> {
    let frame = frame(payload);
    // A frame larger than the socket's buffer goes out in parts; the descriptors go with the
    // first.
    let sent = sendmsg_fds(socket.as_raw_fd(), &frame, fds)?;
    let mut writer = socket;
    writer.write_all(&frame[sent..])
}

/// Receives one framed message from the Unix socket `fd` (blocking), with the descriptors that
/// came with it (close-on-exec); `None` at a clean end of the stream.
pub fn recv_with_fds(fd: RawFd) -> io::Result<Option<(Vec<u8>, Vec<OwnedFd>)>> {
    let mut fds = Vec::new();
    let mut header = [0u8; 4];
    if !recv_exact(fd, &mut header, &mut fds, true)? {
        return Ok(None);
    }
    let mut payload = vec![0u8; payload_len(header)?];
    recv_exact(fd, &mut payload, &mut fds, false)?;
    Ok(Some((payload, fds)))
}

/// Fills `buf`; `false` when the stream ended before its first byte and `eof_ok`.
fn recv_exact(fd: RawFd, buf: &mut [u8], fds: &mut Vec<OwnedFd>, eof_ok: bool) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        let n = recvmsg_fds(fd, &mut buf[got..], fds)?;
        if n == 0 {
            if got == 0 && eof_ok {
                return Ok(false);
            }
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        got += n;
    }
    Ok(true)
}

fn sendmsg_fds(fd: RawFd, data: &[u8], fds: &[RawFd]) -> io::Result<usize> {
    let fds_len = std::mem::size_of_val(fds);
    // u64 words keep the control buffer aligned for `cmsghdr`.
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(fds_len as u32) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain old data; every pointer set below outlives the sendmsg call, the
    // control buffer holds CMSG_SPACE(fds_len) bytes, so the first header and its data fit.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if !fds.is_empty() {
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = space as _;
            let header = libc::CMSG_FIRSTHDR(&msg);
            (*header).cmsg_level = libc::SOL_SOCKET;
            (*header).cmsg_type = libc::SCM_RIGHTS;
            (*header).cmsg_len = libc::CMSG_LEN(fds_len as u32) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr(),
                libc::CMSG_DATA(header).cast::<RawFd>(),
                fds.len(),
            );
        }
        loop {
            let sent = libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL);
            if sent >= 0 {
                return Ok(sent as usize);
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
    }
}

fn recvmsg_fds(fd: RawFd, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> io::Result<usize> {
    // Room for a few descriptors; a request carries two.
    let mut control = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain old data; the pointers outlive recvmsg; the control headers the
    // kernel wrote are walked with CMSG_FIRSTHDR/CMSG_NXTHDR within msg_controllen, and each
    // descriptor it passed is owned by this process from now on.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        let received = loop {
            let n = libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC);
            if n >= 0 {
                break n as usize;
            }
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        };
        let mut header = libc::CMSG_FIRSTHDR(&msg);
        while !header.is_null() {
            if (*header).cmsg_level == libc::SOL_SOCKET && (*header).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(header).cast::<RawFd>();
                let bytes = (*header).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                for i in 0..bytes / std::mem::size_of::<RawFd>() {
                    fds.push(OwnedFd::from_raw_fd(data.add(i).read_unaligned()));
                }
            }
            header = libc::CMSG_NXTHDR(&msg, header);
        }
        if msg.msg_flags & libc::MSG_CTRUNC != 0 {
            return Err(malformed("descriptors were cut off"));
        }
        Ok(received)
    }
}

fn put_count(out: &mut Vec<u8>, count: usize) {
    out.extend_from_slice(&(count as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_count(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Reads the fields of a payload in order.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.0.len() < n {
            return Err(malformed("message cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn count(&mut self) -> io::Result<usize> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| malformed("count"))?;
        Ok(u32::from_le_bytes(bytes) as usize)
    }

    fn os_string(&mut self) -> io::Result<OsString> {
        let len = self.count()?;
        Ok(OsStr::from_bytes(self.take(len)?).to_os_string())
    }
}

fn malformed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed helper message: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::ffi::OsStringExt;

    use super::*;

    #[test]
    fn requests_round_trip_bytes_that_are_not_utf8() {
        let request = Request::Run {
            argv: vec![OsString::from("sh"), OsString::from_vec(vec![0xff, b'x'])],
            env: vec![(OsString::from("K"), OsString::from_vec(vec![0xfe]))],
            cwd: PathBuf::from(OsString::from_vec(vec![b'/', 0x80])),
        };
        assert_eq!(Request::decode(&request.encode()).unwrap(), request);
        assert_eq!(
            Request::decode(&Request::Stop.encode()).unwrap(),
            Request::Stop
        );
        assert!(Request::decode(&request.encode()[..7]).is_err());
    }

    #[test]
    fn reports_round_trip() {
        let started = Report::Started { pid: 4242 };
        assert_eq!(Report::decode(&started.encode()).unwrap(), started);
        let done = Report::Done(Usage {
            wall_us: 12,
            exit_code: Some(3),
            ..Usage::default()
        });
        assert_eq!(Report::decode(&done.encode()).unwrap(), done);
    }

    #[test]
    fn descriptors_travel_with_a_message() {
        let (left, right) = std::os::unix::net::UnixStream::pair().unwrap();
        let (reader, writer) = std::io::pipe().unwrap();
        let writer: OwnedFd = writer.into();
        send_with_fds(&left, b"hello", &[writer.as_raw_fd()]).unwrap();
        drop(writer);
        let (payload, fds) = recv_with_fds(right.as_raw_fd()).unwrap().unwrap();
        assert_eq!(payload, b"hello");
        assert_eq!(fds.len(), 1);
        let mut passed = std::fs::File::from(fds.into_iter().next().unwrap());
        passed.write_all(b"through").unwrap();
        drop(passed);
        let mut text = String::new();
        let mut reader = reader;
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "through");
        drop(left);
        assert!(recv_with_fds(right.as_raw_fd()).unwrap().is_none());
    }
}
