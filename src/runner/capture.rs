//! Draining a child's stdout or stderr into a file, concurrently and with a bound.
//!
//! Both pipes are read at the same time (a full pipe would block the child forever). Bytes past
//! the limit are read and counted but not stored, and the capture says it was truncated. The last
//! [`TAIL_BYTES`] are kept in memory for the stderr tail in reports.

use std::collections::VecDeque;
use std::path::Path;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufWriter};

/// How much of the end of a stream is kept in memory.
pub const TAIL_BYTES: usize = 16 * 1024;

/// What was read from one stream.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    /// Every byte the child wrote, stored or not.
    pub bytes: u64,
    pub truncated: bool,
    /// The last bytes written.
    pub tail: Vec<u8>,
}

/// Reads `stream` to the end, storing at most `limit` bytes in `path`.
pub async fn capture(
    mut stream: impl AsyncRead + Unpin,
    path: &Path,
    limit: u64,
) -> std::io::Result<Captured> {
    let mut file = BufWriter::new(tokio::fs::File::create(path).await?);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut tail: VecDeque<u8> = VecDeque::with_capacity(TAIL_BYTES);
    let mut total: u64 = 0;
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        let chunk = &buffer[..n];
        let room = limit.saturating_sub(total);
        let keep = usize::try_from(room).unwrap_or(usize::MAX).min(n);
        if keep > 0 {
            file.write_all(&chunk[..keep]).await?;
        }
        total += n as u64;
        let start = n.saturating_sub(TAIL_BYTES);
        let overflow = (tail.len() + n - start).saturating_sub(TAIL_BYTES);
        tail.drain(..overflow);
        tail.extend(&chunk[start..]);
    }
    file.flush().await?;
    Ok(Captured {
        bytes: total,
        truncated: total > limit,
        tail: tail.into(),
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
        let captured = capture(&data[..], &path, 1000).await.unwrap();
        assert_eq!(captured.bytes, 100_000);
        assert!(captured.truncated);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1000);
        assert_eq!(captured.tail.len(), TAIL_BYTES);
    }

    #[test]
    fn keeps_the_last_lines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines(b"only", 5), "only");
    }
}
