//! Draining a child's stdout or stderr into a file, concurrently and with a bound.
//!
//! Both pipes are read at the same time (a full pipe would block the child forever). Bytes past
//! the limit are read and counted but not stored, and the capture says it was truncated. The last
//! [`TAIL_BYTES`] are kept in memory for the stderr tail in reports. Reading can be stopped, keeping
//! what was read, when a pipe stays open after everything that could write to it is gone.

use std::collections::VecDeque;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::sync::watch;

/// How much of the end of a stream is kept in memory.
pub const TAIL_BYTES: usize = 16 * 1024;
/// The read buffer: small at first, full size once a read fills it. Most streams of a run
/// are empty or short, and 2 × 80 KiB allocated and freed per run made the allocator give
/// memory back to the kernel and fault it in again on every run (an `madvise`, a read of
/// `/proc/sys/vm/overcommit_memory` and page faults, per run).
const FIRST_READ: usize = 4 * 1024;
const READ_BUFFER: usize = 64 * 1024;

/// What was read from one stream.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// Every byte the child wrote, stored or not.
    pub bytes: u64,
    pub truncated: bool,
    /// The last bytes written.
    pub tail: Vec<u8>,
    /// Reading stopped on request while the pipe was still open (a process outside the side's
    /// reach held it): what was read until then is kept.
    pub held_open: bool,
}

/// Reads `stream` to the end, storing at most `limit` bytes in `file` (created by the caller,
/// so a run that writes nothing costs no trip to the blocking pool), or until `stop` is set.
/// A failure to store (no file descriptor, no disk) keeps draining the pipe, so the child is
/// never blocked on a full pipe, and is returned at the end.
pub async fn capture(
    mut stream: impl AsyncRead + Unpin,
    file: std::io::Result<std::fs::File>,
    limit: u64,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<Captured> {
    let mut failure: Option<std::io::Error> = None;
    let mut file = match file {
        Ok(file) => Some(BufWriter::new(tokio::fs::File::from_std(file))),
        Err(e) => {
            failure = Some(e);
            None
        }
    };
    let mut buffer = vec![0u8; FIRST_READ];
    let mut tail: VecDeque<u8> = VecDeque::new();
    let mut total: u64 = 0;
    let mut held_open = false;
    loop {
        let n = tokio::select! {
            read = stream.read(&mut buffer) => read?,
            _ = stop.wait_for(|stop| *stop) => {
                held_open = true;
                break;
            }
        };
        if n == 0 {
            break;
        }
        let grow = n == buffer.len() && buffer.len() < READ_BUFFER;
        let chunk = &buffer[..n];
        let room = limit.saturating_sub(total);
        let keep = usize::try_from(room).unwrap_or(usize::MAX).min(n);
        if keep > 0
            && let Some(writer) = file.as_mut()
            && let Err(e) = writer.write_all(&chunk[..keep]).await
        {
            failure = Some(e);
            file = None;
        }
        total += n as u64;
        let start = n.saturating_sub(TAIL_BYTES);
        let overflow = (tail.len() + n - start).saturating_sub(TAIL_BYTES);
        tail.drain(..overflow);
        tail.extend(&chunk[start..]);
        if grow {
            buffer.resize(READ_BUFFER, 0);
        }
    }
    if let Some(mut writer) = file
        && let Err(e) = writer.flush().await
    {
        failure = Some(e);
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Captured {
        bytes: total,
        truncated: total > limit,
        tail: tail.into(),
        held_open,
    })
}

/// The last `max_lines` lines of `tail`, lossily decoded.
pub fn last_lines(tail: &[u8], max_lines: usize) -> String {
    let text = String::from_utf8_lossy(tail);
    let trimmed = text.trim_end_matches('\n');
    let lines: Vec<&str> = trimmed.rsplit('\n').take(max_lines).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_up_to_the_limit_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let data = vec![b'x'; 100_000];
        let (_stop, stopped) = watch::channel(false);
        let file = std::fs::File::create(&path);
        let captured = capture(&data[..], file, 1000, stopped).await.unwrap();
        assert_eq!(captured.bytes, 100_000);
        assert!(captured.truncated);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1000);
        assert_eq!(captured.tail.len(), TAIL_BYTES);
    }

    #[tokio::test]
    async fn every_byte_is_stored_in_order_as_the_buffer_grows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let (_stop, stopped) = watch::channel(false);
        let file = std::fs::File::create(&path);
        let captured = capture(&data[..], file, u64::MAX, stopped).await.unwrap();
        assert_eq!(captured.bytes, data.len() as u64);
        assert!(!captured.truncated);
        assert_eq!(std::fs::read(&path).unwrap(), data);
        assert_eq!(captured.tail, data[data.len() - TAIL_BYTES..]);
    }

    #[test]
    fn keeps_the_last_lines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines(b"only", 5), "only");
    }
}
