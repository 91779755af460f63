//! Plumbing both front ends have word for word, none of it logic:
//! `Deref` to the shared part, `Debug` through it, and the constructors and
//! accessors around a socket's stream. Everything that decides something is
//! a method of [`SocketCore`](crate::SocketCore),
//! [`ServerSettings`](crate::ServerSettings) or the driver.

/// `Deref`/`DerefMut` from a front end type to its shared part.
macro_rules! deref_to_shared {
    ($front:ident $(<$param:ident>)?, $field:ident: $shared:ty) => {
        impl$(<$param>)? std::ops::Deref for $front$(<$param>)? {
            type Target = $shared;

            fn deref(&self) -> &$shared {
                &self.$field
            }
        }

        impl$(<$param>)? std::ops::DerefMut for $front$(<$param>)? {
            fn deref_mut(&mut self) -> &mut $shared {
                &mut self.$field
            }
        }
    };
}

/// A socket's `Deref` to its core, `Debug` through it, and the methods
/// around its stream, for `impl<S: $bound> SslSocket<S>`; the type has
/// `stream: Option<S>`, `core: SocketCore` and a
/// `with_core(Option<S>, SocketCore)` constructor.
macro_rules! socket_plumbing {
    ($($bound:tt)+) => {
        deref_to_shared!(SslSocket<S>, core: SocketCore);

        impl<S> std::fmt::Debug for SslSocket<S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.core.fmt(f)
            }
        }

        impl<S: $($bound)+> SslSocket<S> {
            /// A socket over an already connected `stream`, in plain mode, with a
            /// copy of the default configuration: call
            /// [`start_client_encryption`](SocketCore::start_client_encryption) or
            /// [`start_server_encryption`](SocketCore::start_server_encryption) next.
            pub fn from_stream(stream: S) -> SslSocket<S> {
                SslSocket::from_stream_with_configuration(stream, SslConfiguration::new())
            }

            /// [`from_stream`](Self::from_stream) with `configuration` instead of
            /// the default one.
            pub fn from_stream_with_configuration(
                stream: S,
                configuration: SslConfiguration,
            ) -> SslSocket<S> {
                SslSocket::with_core(Some(stream), SocketCore::new(configuration, true))
            }

            /// Gives the transport back, dropping the TLS state.
            pub fn into_inner(self) -> Option<S> {
                self.stream
            }

            /// The transport.
            pub fn get_ref(&self) -> Option<&S> {
                self.stream.as_ref()
            }
        }

        impl SslSocket<TcpStream> {
            /// The address of the peer, when connected.
            pub fn peer_address(&self) -> Option<std::net::SocketAddr> {
                self.stream.as_ref()?.peer_addr().ok()
            }

            /// The local address, when connected.
            pub fn local_address(&self) -> Option<std::net::SocketAddr> {
                self.stream.as_ref()?.local_addr().ok()
            }
        }

        impl Default for SslSocket<TcpStream> {
            fn default() -> Self {
                SslSocket::new()
            }
        }
    };
}

/// A server's `Deref` to its [`ServerSettings`](crate::ServerSettings) and
/// its `Debug`; `$handshaking` is the field of the handshakes in progress.
macro_rules! server_plumbing {
    ($handshaking:ident) => {
        deref_to_shared!(SslServer, settings: ServerSettings);

        impl std::fmt::Debug for SslServer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("SslServer")
                    .field("local_address", &self.local_address())
                    .field("settings", &self.settings)
                    .field("handshaking", &self.$handshaking.len())
                    .field("ready", &self.ready.len())
                    .finish_non_exhaustive()
            }
        }
    };
}
