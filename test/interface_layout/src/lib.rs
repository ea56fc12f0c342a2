//! Checks every generated RMW message struct against the C struct it mirrors.
//!
//! A wrong layout fails silently at run time (the C typesupport reads the wrong bytes), so
//! size, alignment and every field's offset and size are compared with what the C
//! compiler computed from the installed `*__struct.h` headers. The same tests also run
//! each message's C init function (default values) and the idiomatic <-> RMW conversions.

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    use std::ffi::{c_char, CStr};

    use rosidl_runtime_rs::Message;

    /// One row of the probe's table: a whole struct (field == "") or one of its fields.
    #[repr(C)]
    struct CLayout {
        ty: *const c_char,
        field: *const c_char,
        offset: usize,
        size: usize,
        align: usize,
    }

    extern "C" {
        static rv_layouts: [CLayout; 0];
        static rv_layouts_len: usize;
    }

    /// The same facts, computed by rustc for the generated types.
    #[derive(Debug, PartialEq)]
    struct Layout {
        ty: &'static str,
        field: &'static str,
        offset: usize,
        size: usize,
        align: usize,
    }

    impl Layout {
        fn of_type<T>(ty: &'static str) -> Self {
            Layout {
                ty,
                field: "",
                offset: 0,
                size: std::mem::size_of::<T>(),
                align: std::mem::align_of::<T>(),
            }
        }

        fn of_field(ty: &'static str, field: &'static str, offset: usize, size: usize) -> Self {
            Layout {
                ty,
                field,
                offset,
                size,
                align: 0,
            }
        }
    }

    /// Size of a field's type, without needing a value of the struct.
    fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
        std::mem::size_of::<F>()
    }

    type Key = (String, String);

    fn c_layouts(package: &str) -> BTreeMap<Key, (usize, usize, usize)> {
        // SAFETY: the probe defines `rv_layouts_len` entries of `rv_layouts`, whose strings
        // are NUL-terminated literals.
        let rows = unsafe {
            std::slice::from_raw_parts(
                std::ptr::addr_of!(rv_layouts).cast::<CLayout>(),
                rv_layouts_len,
            )
        };
        let prefix = format!("{package}__");
        rows.iter()
            .map(|row| unsafe {
                let ty = CStr::from_ptr(row.ty).to_string_lossy().into_owned();
                let field = CStr::from_ptr(row.field).to_string_lossy().into_owned();
                ((ty, field), (row.offset, row.size, row.align))
            })
            .filter(|((ty, _), _)| ty.starts_with(&prefix))
            .collect()
    }

    fn compare_with_c(package: &str, rust: &[Layout]) {
        let c = c_layouts(package);
        let rust: BTreeMap<Key, (usize, usize, usize)> = rust
            .iter()
            .map(|l| {
                (
                    (l.ty.to_owned(), l.field.to_owned()),
                    (l.offset, l.size, l.align),
                )
            })
            .collect();
        let mut errors = Vec::new();
        for (key, c_value) in &c {
            match rust.get(key) {
                Some(r) if r == c_value => {}
                Some(r) => errors.push(format!(
                    "{}.{}: C (offset, size, align) = {c_value:?}, Rust = {r:?}",
                    key.0, key.1
                )),
                None => errors.push(format!("{}.{}: missing on the Rust side", key.0, key.1)),
            }
        }
        for key in rust.keys().filter(|k| !c.contains_key(*k)) {
            errors.push(format!("{}.{}: missing on the C side", key.0, key.1));
        }
        assert!(
            !c.is_empty(),
            "{package}: the probe has no struct of this package"
        );
        assert!(
            errors.is_empty(),
            "{package}: {} layout mismatches:\n{}",
            errors.len(),
            errors.join("\n")
        );
    }

    /// Default values come from the C init function; both conversion paths must agree.
    fn check_conversions<T: Message + PartialEq>() {
        let value = T::default();
        let borrowed = T::into_rmw_message(Cow::Borrowed(&value)).into_owned();
        let owned = T::into_rmw_message(Cow::Owned(value.clone())).into_owned();
        assert_eq!(T::from_rmw_message(borrowed), value);
        assert_eq!(T::from_rmw_message(owned), value);
    }

    #[test]
    #[should_panic(
        expected = "builtin_interfaces__msg__Time.nanosec: C (offset, size, align) = (4, 4, 0), Rust = (8, 4, 0)"
    )]
    fn a_wrong_offset_is_caught() {
        use ros_env::builtin_interfaces::msg::rmw::Time;
        compare_with_c(
            "builtin_interfaces",
            &[
                Layout::of_type::<Time>("builtin_interfaces__msg__Time"),
                Layout::of_field("builtin_interfaces__msg__Time", "sec", 0, 4),
                // nanosec really is at offset 4
                Layout::of_field("builtin_interfaces__msg__Time", "nanosec", 8, 4),
            ],
        );
    }

    #[test]
    fn constants_defaults_and_keyword_fields() {
        use ros_env::rust_vision_test_msgs::msg::{AllTypes, IdlTypes};
        assert_eq!(AllTypes::C_STR, "quote \" backslash \\ and unicode \u{e9}");
        assert_eq!((AllTypes::C_U64, AllTypes::C_I64), (u64::MAX, i64::MIN));
        assert_eq!((AllTypes::C_U32, AllTypes::C_I32), (u32::MAX, i32::MIN));
        assert_eq!((AllTypes::C_F64, AllTypes::C_F32), (-1e100, 0.125));
        assert_eq!(
            (AllTypes::C_CHAR, AllTypes::C_BYTE, AllTypes::C_BOOL),
            (100, 255, true)
        );
        let m = AllTypes::default();
        assert_eq!((m.type_, m.match_, m.move_.as_str()), (0, false, ""));
        assert_eq!((m.text.as_str(), m.int_array), ("default text", [1, 2, 3]));
        assert_eq!(m.primitives.u64, 18_000_000_000_000_000_000);
        assert_eq!(IdlTypes::default().with_default, 12.5);
    }

    include!(env!("LAYOUT_TESTS_RS"));
}
