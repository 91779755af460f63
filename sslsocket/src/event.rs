//! Notifications from a socket: Qt's signals that only inform (the two that
//! decide, `sslErrors` and `peerVerifyError`, are handlers; see
//! [`SocketCore::on_ssl_errors`](crate::SocketCore::on_ssl_errors)).

use std::collections::VecDeque;

use crate::error::SslError;
use crate::ssl::{AlertLevel, AlertType, SslMode};
use crate::state::SocketState;

/// Something that happened to a socket, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The state changed (`stateChanged`).
    StateChanged(SocketState),
    /// The connection is established (`connected`).
    Connected,
    /// The socket changed between plain, client and server mode (`modeChanged`).
    ModeChanged(SslMode),
    /// The handshake completed and the peer was accepted (`encrypted`).
    Encrypted,
    /// The peer's certificate had errors; they were ignored or the mode does
    /// not make them fatal (`sslErrors`, as a notification).
    SslErrors(Vec<SslError>),
    /// New data can be read (`readyRead`). Consecutive arrivals are merged.
    ReadyRead,
    /// Plaintext was handed to TLS (or, in plain mode, to the network)
    /// (`bytesWritten`). Consecutive counts are added up.
    BytesWritten(u64),
    /// Ciphertext reached the network (`encryptedBytesWritten`).
    EncryptedBytesWritten(u64),
    /// This side sent a TLS alert (`alertSent`): close_notify, or the fatal
    /// alert that ended a failed handshake.
    AlertSent {
        /// Warning or fatal.
        level: AlertLevel,
        /// The alert.
        kind: AlertType,
    },
    /// The peer sent a TLS alert (`alertReceived`).
    AlertReceived {
        /// Warning or fatal.
        level: AlertLevel,
        /// The alert.
        kind: AlertType,
    },
    /// The connection is closed (`disconnected`).
    Disconnected,
}

/// How many events a socket or a server keeps for a program that never
/// reads them; the oldest are dropped beyond that.
pub(crate) const MAX_QUEUED_EVENTS: usize = 1024;

/// A bounded queue that merges repeated notifications, so that a program
/// that ignores events does not make a long-lived socket grow.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    events: VecDeque<Event>,
}

impl EventQueue {
    pub(crate) fn push(&mut self, event: Event) {
        match (self.events.back_mut(), &event) {
            (Some(Event::ReadyRead), Event::ReadyRead) => return,
            (Some(Event::BytesWritten(total)), Event::BytesWritten(n))
            | (Some(Event::EncryptedBytesWritten(total)), Event::EncryptedBytesWritten(n)) => {
                *total += n;
                return;
            }
            _ => {}
        }
        if self.events.len() == MAX_QUEUED_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    pub(crate) fn pop(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_notifications_merge_and_the_queue_is_bounded() {
        let mut queue = EventQueue::default();
        queue.push(Event::ReadyRead);
        queue.push(Event::ReadyRead);
        queue.push(Event::BytesWritten(3));
        queue.push(Event::BytesWritten(4));
        queue.push(Event::ReadyRead);
        assert_eq!(queue.pop(), Some(Event::ReadyRead));
        assert_eq!(queue.pop(), Some(Event::BytesWritten(7)));
        assert_eq!(queue.pop(), Some(Event::ReadyRead));
        assert_eq!(queue.pop(), None);

        for n in 0..2 * MAX_QUEUED_EVENTS {
            queue.push(if n % 2 == 0 {
                Event::Connected
            } else {
                Event::Encrypted
            });
        }
        assert_eq!(queue.events.len(), MAX_QUEUED_EVENTS);
    }
}
