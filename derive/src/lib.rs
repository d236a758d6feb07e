//! `#[derive(LabelSet)]` and `#[derive(LabelValue)]` for promstack's typed label sets
//! (`promstack_core::LabelSet`, `LabelNames`, `LabelValue`). Use them through the `derive`
//! feature of promstack-core, promstack-alloc or promstack, which re-exports both next to the
//! traits of the same name.
//!
//! The generated code names the traits by the path `::promstack_core`. A crate that depends on
//! `promstack` only says where they are with `#[label(crate = "promstack::promstack_core")]`.
//!
//! Input the derive cannot use is a compile error that points at the offending field, variant
//! or attribute.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Error, Fields, LitStr, Path};

/// Implements `LabelSet<N>` and `LabelNames<N>` for a struct with named fields: one label per
/// field, in field order, named after the field. Each field's type is a `LabelValue`.
///
/// Attributes: `#[label(rename = "name")]` on a field names its label otherwise;
/// `#[label(crate = "path")]` on the struct says where promstack-core is (default
/// `::promstack_core`).
///
/// ```
/// use promstack_core::{label_values, LabelNames, LabelSet, ValueBuf};
/// #[derive(LabelSet)]
/// struct Route<'a> {
///     path: &'a str,
///     #[label(rename = "status_code")]
///     code: u16,
/// }
/// assert_eq!(Route::NAMES, ["path", "status_code"]);
/// let mut scratch = [const { ValueBuf::new() }; 2];
/// assert_eq!(label_values(&Route { path: "/", code: 404 }, &mut scratch), ["/", "404"]);
/// ```
///
/// A label name must be a valid Prometheus label name, not reserved:
/// ```compile_fail
/// #[derive(promstack_core::LabelSet)]
/// struct Bad { #[label(rename = "__name__")] name: &'static str }
/// ```
/// ```compile_fail
/// #[derive(promstack_core::LabelSet)]
/// struct Bad { #[label(rename = "no-dashes")] name: &'static str }
/// ```
/// and used once:
/// ```compile_fail
/// #[derive(promstack_core::LabelSet)]
/// struct Bad { a: u8, #[label(rename = "a")] b: u8 }
/// ```
/// Fields are named, and each is a `LabelValue`:
/// ```compile_fail
/// #[derive(promstack_core::LabelSet)]
/// struct Bad(u8, u8);
/// ```
/// ```compile_fail
/// #[derive(promstack_core::LabelSet)]
/// struct Bad { ratio: f64 }
/// ```
/// Unknown attribute keys are refused:
/// ```compile_fail
/// #[derive(promstack_core::LabelSet)]
/// struct Bad { #[label(renamed = "x")] a: u8 }
/// ```
#[proc_macro_derive(LabelSet, attributes(label))]
pub fn derive_label_set(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    label_set(&input).unwrap_or_else(Error::into_compile_error).into()
}

/// Implements `LabelValue` for a fieldless enum (the value is the variant's name, or its
/// `#[label(rename = "value")]`, a `&'static str`: nothing is formatted or allocated), or for
/// a struct with exactly one field (the field's value).
///
/// `#[label(crate = "path")]` on the type says where promstack-core is (default
/// `::promstack_core`).
///
/// ```
/// use promstack_core::{LabelValue, ValueBuf};
/// #[derive(LabelValue)]
/// enum Method {
///     Get,
///     #[label(rename = "POST")]
///     Post,
/// }
/// #[derive(LabelValue)]
/// struct Code(u16);
/// let mut scratch = ValueBuf::new();
/// assert_eq!(Method::Get.label_value(&mut scratch), "Get");
/// assert_eq!(Method::Post.label_value(&mut scratch), "POST");
/// assert_eq!(Code(503).label_value(&mut scratch), "503");
/// ```
///
/// Variants carry no fields:
/// ```compile_fail
/// #[derive(promstack_core::LabelValue)]
/// enum Bad { Ok, Failed(u16) }
/// ```
/// and a struct has exactly one:
/// ```compile_fail
/// #[derive(promstack_core::LabelValue)]
/// struct Bad { a: u8, b: u8 }
/// ```
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    label_value(&input).unwrap_or_else(Error::into_compile_error).into()
}

/// What a `#[label(...)]` attribute says.
#[derive(Default)]
struct LabelAttr {
    rename: Option<LitStr>,
    krate: Option<Path>,
}

/// Reads the `#[label(...)]` attributes; `container` allows `crate`, otherwise `rename`.
fn label_attr(attrs: &[Attribute], container: bool) -> Result<LabelAttr, Error> {
    let mut out = LabelAttr::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("label")) {
        attr.parse_nested_meta(|meta| {
            if !container && meta.path.is_ident("rename") {
                if out.rename.is_some() {
                    return Err(meta.error("`rename` given twice"));
                }
                out.rename = Some(meta.value()?.parse()?);
                Ok(())
            } else if container && meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                out.krate = Some(lit.parse()?);
                Ok(())
            } else if container {
                Err(meta.error("expected `crate = \"path\"` (`rename` goes on a field or variant)"))
            } else {
                Err(meta.error("expected `rename = \"...\"`"))
            }
        })?;
    }
    Ok(out)
}

fn krate(attrs: &[Attribute]) -> Result<TokenStream, Error> {
    Ok(match label_attr(attrs, true)?.krate {
        Some(path) => quote!(#path),
        None => quote!(::promstack_core),
    })
}

/// The rule promstack-core checks label names against (`[a-zA-Z_][a-zA-Z0-9_]*`, no `__`
/// prefix), checked here so a bad name is an error at the derive, not at the family.
fn check_label_name(name: &str, span: Span) -> Result<(), Error> {
    let mut chars = name.chars();
    let valid = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(Error::new(
            span,
            format!("invalid label name {name:?}: expected [a-zA-Z_][a-zA-Z0-9_]*"),
        ));
    }
    if name.starts_with("__") {
        return Err(Error::new(
            span,
            format!("reserved label name {name:?}: names starting with `__` are Prometheus's"),
        ));
    }
    Ok(())
}

fn label_set(input: &DeriveInput) -> Result<TokenStream, Error> {
    let krate = krate(&input.attrs)?;
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(f) => &f.named,
            other => {
                return Err(Error::new(
                    other.span(),
                    "#[derive(LabelSet)] needs named fields: the field names are the label names",
                ))
            }
        },
        Data::Enum(e) => {
            return Err(Error::new(
                e.enum_token.span,
                "#[derive(LabelSet)] is for structs; an enum that is one label value derives LabelValue",
            ))
        }
        Data::Union(u) => return Err(Error::new(u.union_token.span, "#[derive(LabelSet)] is for structs")),
    };
    let mut names: Vec<(String, Span)> = Vec::new();
    for field in fields {
        let attr = label_attr(&field.attrs, false)?;
        let (name, span) = match &attr.rename {
            Some(lit) => (lit.value(), lit.span()),
            // Named fields always have an ident; `r#type` is the label `type`.
            None => field
                .ident
                .as_ref()
                .map_or((String::new(), field.span()), |i| (i.unraw().to_string(), i.span())),
        };
        check_label_name(&name, span)?;
        if names.iter().any(|(n, _)| *n == name) {
            return Err(Error::new(span, format!("label name {name:?} is used twice")));
        }
        names.push((name, span));
    }
    let n = fields.len();
    let scratch: Vec<_> = (0..n).map(|i| format_ident!("__scratch{}", i)).collect();
    let names = names.iter().map(|(n, _)| n);
    let ty = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut bounds: Vec<TokenStream> =
        where_clause.map(|w| w.predicates.iter().map(|p| quote!(#p)).collect()).unwrap_or_default();
    // A generic field type must be a label value for the set to be one.
    if !input.generics.params.is_empty() {
        bounds.extend(fields.iter().map(|f| {
            let fty = &f.ty;
            quote_spanned!(fty.span()=> #fty: #krate::LabelValue)
        }));
    }
    // Spanned at the field, so a type that is no label value is reported there.
    let values = fields.iter().zip(&scratch).map(|(f, s)| {
        let ident = &f.ident;
        quote_spanned!(f.ty.span()=> #krate::LabelValue::label_value(&self.#ident, #s))
    });
    Ok(quote! {
        impl #impl_generics #krate::LabelSet<#n> for #ty #ty_generics where #(#bounds),* {
            #[inline]
            fn label_values<'__a>(
                &'__a self,
                scratch: &'__a mut [#krate::ValueBuf; #n],
            ) -> [&'__a str; #n] {
                let [#(#scratch),*] = scratch;
                [#(#values),*]
            }
        }

        impl #impl_generics #krate::LabelNames<#n> for #ty #ty_generics where #(#bounds),* {
            const NAMES: [&'static str; #n] = [#(#names),*];
        }
    })
}

fn label_value(input: &DeriveInput) -> Result<TokenStream, Error> {
    let krate = krate(&input.attrs)?;
    let ty = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = match &input.data {
        Data::Enum(e) => {
            let mut arms = Vec::new();
            for v in &e.variants {
                if !matches!(v.fields, Fields::Unit) {
                    return Err(Error::new(
                        v.fields.span(),
                        "#[derive(LabelValue)] needs variants without fields: the value is the variant's name",
                    ));
                }
                let value = match label_attr(&v.attrs, false)?.rename {
                    Some(lit) => lit.value(),
                    None => v.ident.unraw().to_string(),
                };
                let ident = &v.ident;
                arms.push(quote!(Self::#ident => #value));
            }
            if arms.is_empty() {
                // An enum without variants has no value to give.
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms,)* })
            }
        }
        Data::Struct(s) => {
            let mut fields = s.fields.iter();
            let (Some(field), None) = (fields.next(), fields.next()) else {
                return Err(Error::new(
                    s.fields.span().join(ty.span()).unwrap_or(ty.span()),
                    "#[derive(LabelValue)] on a struct needs exactly one field, whose value is the label value",
                ));
            };
            if field.attrs.iter().any(|a| a.path().is_ident("label")) {
                return Err(Error::new(field.span(), "`#[label(...)]` has no meaning on this field"));
            }
            let member = match &field.ident {
                Some(i) => quote!(#i),
                None => quote!(0),
            };
            quote!(#krate::LabelValue::label_value(&self.#member, scratch))
        }
        Data::Union(u) => {
            return Err(Error::new(
                u.union_token.span,
                "#[derive(LabelValue)] is for enums and one-field structs",
            ))
        }
    };
    Ok(quote! {
        impl #impl_generics #krate::LabelValue for #ty #ty_generics #where_clause {
            #[inline]
            #[allow(unused_variables)]
            fn label_value<'__a>(&'__a self, scratch: &'__a mut #krate::ValueBuf) -> &'__a str {
                #body
            }
        }
    })
}
