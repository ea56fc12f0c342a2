//! Settings chosen by name (`detector:=cascade`): one list per enum gives its variants,
//! the names they are chosen by (`NAMES`, in order, for the parameter table and
//! `--print-defaults`), parsing, and the error naming the parameter and every choice.

/// Declares `enum $name` chosen by the parameter `$param`, each variant by its name:
///
/// ```ignore
/// choice! {
///     /// What to do when full.
///     pub enum Overflow for "overflow" {
///         /// Drop the oldest.
///         Latest = "latest",
///         All = "all",
///     }
/// }
/// ```
#[macro_export]
macro_rules! choice {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident for $param:literal {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl $name {
            /// Every name the variants are chosen by, in order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The name this variant is chosen by.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::ConfigError;

            fn from_str(name: &str) -> ::std::result::Result<Self, Self::Err> {
                match name {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::error::ConfigError::not_one_of($param, other, Self::NAMES)),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::choice! {
        /// A test choice.
        enum Fruit for "fruit" {
            Apple = "apple",
            /// With a doc comment.
            Pear = "pear",
        }
    }

    #[test]
    fn names_parse_back_and_others_are_refused_with_the_choices() {
        for name in Fruit::NAMES {
            assert_eq!(name.parse::<Fruit>().unwrap().name(), *name);
        }
        assert_eq!(Fruit::NAMES, ["apple", "pear"]);
        let error = "plum".parse::<Fruit>().unwrap_err().to_string();
        assert_eq!(
            error,
            "parameter `fruit`: \"plum\" is not one of apple, pear"
        );
    }
}
