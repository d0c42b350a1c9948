//! Standard output that a closed pipe cannot fail. `parity run … | head -1` closes the pipe
//! after one line; the command must still finish its work and exit with its verdict (the exit
//! code is the verdict, whoever reads the output). Once the reader is gone, later writes are
//! dropped.

use std::io::{self, Write};

/// A writer whose broken pipe is the reader saying it has seen enough.
pub struct Tolerant<W> {
    inner: W,
    closed: bool,
}

/// Standard output with colour as `--color` and the environment say.
pub fn stdout() -> Tolerant<anstream::AutoStream<io::StdoutLock<'static>>> {
    Tolerant::new(anstream::stdout().lock())
}

/// Standard output for machine-readable text, byte for byte.
pub fn raw_stdout() -> Tolerant<io::StdoutLock<'static>> {
    Tolerant::new(io::stdout().lock())
}

impl<W: Write> Tolerant<W> {
    pub fn new(inner: W) -> Self {
        Tolerant {
            inner,
            closed: false,
        }
    }

    fn absorb(&mut self, result: io::Result<usize>, len: usize) -> io::Result<usize> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(len)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for Tolerant<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.absorb(result, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush().map(|()| 0);
        self.absorb(result, 0).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Closed;
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    #[test]
    fn a_closed_reader_is_not_an_error() {
        let mut out = Tolerant::new(Closed);
        assert!(writeln!(out, "a line nobody reads").is_ok());
        assert!(out.flush().is_ok());
        assert!(out.closed);
    }
}
