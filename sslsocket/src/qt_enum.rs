//! The declaration macro behind every Qt-numbered enum of the crate.

/// Declares a fieldless enum whose variants carry Qt's names and numbers,
/// with `value`, `from_value`, `name`, `Display` and case-insensitive `FromStr`.
macro_rules! qt_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Qt's numeric value of this variant.
            pub const fn value(self) -> i32 {
                match self { $($name::$variant => $value,)+ }
            }

            /// The variant with Qt's numeric value `value`, if there is one.
            pub const fn from_value(value: i32) -> Option<$name> {
                $(if value == $value { return Some($name::$variant); })+
                None
            }

            /// Qt's name of this variant, e.g. `"TlsV1_3"`.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant),)+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;

            /// Parses Qt's name of a variant, ignoring ASCII case.
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name().eq_ignore_ascii_case(text))
                    .ok_or_else(|| crate::Error::UnknownName {
                        what: $what,
                        name: text.to_owned(),
                        expected: Self::ALL.iter().map(|v| v.name()).collect(),
                    })
            }
        }
    };
}
