// SPDX-License-Identifier: GPL-2.0

//! Reading C constants from the applied kernel tree (host-only, for the agreement tests).
//!
//! The tree is `$KERNEL_SRC` (default: `linux/` next to this crate) and the files are read at
//! the revision `$DAXGUP_TREE_REV` (default: `series`, the branch that `ci/apply` leaves), so
//! the constants are those of the series tip whatever is checked out. Object-like `#define`s
//! are parsed, the last definition of a name wins (x86_64 comes after x86_32 in the headers
//! read here), and integer constant expressions are evaluated: literals with suffixes,
//! `( ) ~ * + - << >> & |`, other macros of the same files, and the `_AC()`, `_UL()`,
//! `_ULL()`, `UL()`, `ULL()`, `BIT()` and `BIT_ULL()` wrappers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

/// The files of one revision of a kernel tree, and the `#define`s read from them.
pub(crate) struct CTree {
    ksrc: PathBuf,
    rev: String,
    defs: HashMap<String, String>,
}

impl CTree {
    /// The applied tree; panics with what is missing if it cannot be read.
    pub(crate) fn open() -> Self {
        let ksrc = std::env::var_os("KERNEL_SRC")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../linux"));
        let rev = std::env::var("DAXGUP_TREE_REV").unwrap_or_else(|_| "series".into());
        Self {
            ksrc,
            rev,
            defs: HashMap::new(),
        }
    }

    /// The tree with x86_64's page geometry loaded (`CONFIG_PAGE_SHIFT` resolved from Kconfig).
    pub(crate) fn x86_64() -> CTree {
        let mut t = CTree::open();
        let x86 = t.read("arch/x86/Kconfig");
        let sizes: Vec<&str> = x86
            .lines()
            .filter_map(|l| l.trim().strip_prefix("select HAVE_PAGE_SIZE_"))
            .collect();
        assert_eq!(sizes, ["4KB"], "x86 page sizes changed: {sizes:?}");
        let arch = t.read("arch/Kconfig");
        let shift = arch
            .lines()
            .skip_while(|l| *l != "config PAGE_SHIFT")
            .find_map(|l| {
                let l = l.trim().strip_prefix("default")?.trim();
                let (n, cond) = l.split_once(" if ")?;
                (cond.trim() == "PAGE_SIZE_4KB").then(|| n.trim().parse::<u128>().unwrap())
            })
            .expect("config PAGE_SHIFT has a default for PAGE_SIZE_4KB");
        t.set("CONFIG_PAGE_SHIFT", shift)
            .load("arch/x86/include/asm/page_types.h")
            .load("arch/x86/include/asm/pgtable_64_types.h")
            .load("include/linux/pgtable.h");
        t
    }

    /// The text of `path` at the tree's revision.
    pub(crate) fn read(&self, path: &str) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.ksrc)
            .args(["show", &format!("{}:{}", self.rev, path)])
            .output()
            .unwrap_or_else(|e| panic!("cannot run git: {e}"));
        assert!(
            out.status.success(),
            "cannot read {path} at '{}' in {}: {}\nThe agreement tests need the series applied: \
             run ci/setup and ci/apply, or set KERNEL_SRC / DAXGUP_TREE_REV.",
            self.rev,
            self.ksrc.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8(out.stdout).expect("kernel sources are UTF-8")
    }

    /// Reads the object-like `#define`s of `path` into the tree's table.
    pub(crate) fn load(&mut self, path: &str) -> &mut Self {
        let text = self.read(path);
        for (name, body) in defines(&text) {
            self.defs.insert(name, body);
        }
        self
    }

    /// A table of the `#define`s of `text` alone, without a tree (for testing the parser).
    pub(crate) fn from_text(text: &str) -> Self {
        Self {
            ksrc: PathBuf::new(),
            rev: String::new(),
            defs: defines(text).into_iter().collect(),
        }
    }

    /// Sets a name the headers take from Kconfig (`CONFIG_*`).
    pub(crate) fn set(&mut self, name: &str, value: u128) -> &mut Self {
        self.defs.insert(name.into(), value.to_string());
        self
    }

    /// The raw body of the `#define` of `name`.
    pub(crate) fn body(&self, name: &str) -> &str {
        self.defs
            .get(name)
            .unwrap_or_else(|| panic!("no #define {name} in the files read"))
    }

    /// The value of the macro `name`.
    pub(crate) fn value(&self, name: &str) -> u128 {
        self.eval(self.body(name))
    }

    /// The value of the constant expression `expr`.
    pub(crate) fn eval(&self, expr: &str) -> u128 {
        let toks = tokens(expr);
        let mut p = Parser {
            toks: &toks,
            pos: 0,
            tree: self,
            depth: 0,
        };
        let v = p.or();
        assert!(
            p.pos == toks.len(),
            "cannot evaluate {expr:?}: trailing {:?}",
            &toks[p.pos..]
        );
        v
    }
}

/// The object-like `#define NAME body` lines of `text`, comments removed, continuations joined.
fn defines(text: &str) -> Vec<(String, String)> {
    let text = strip_comments(&text.replace("\\\n", " "));
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("define") else {
            continue;
        };
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let rest = rest.trim_start();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (name, body) = rest.split_at(end);
        if name.is_empty() || body.starts_with('(') {
            continue; // function-like macro
        }
        out.push((name.to_string(), body.trim().to_string()));
    }
    out
}

fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        match rest[i + 2..].find("*/") {
            Some(j) => rest = &rest[i + 2 + j + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(u128),
    Ident(String),
    Op(&'static str),
}

/// The operators of constant expressions; two-character ones first.
const OPS: [&str; 11] = ["<<", ">>", "(", ")", "~", "*", "+", "-", "&", "|", ","];

fn tokens(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i] as char).is_ascii_alphanumeric() {
                i += 1;
            }
            let lit = s[start..i].trim_end_matches(['u', 'U', 'l', 'L']);
            let v = if let Some(hex) = lit.strip_prefix("0x").or(lit.strip_prefix("0X")) {
                u128::from_str_radix(hex, 16)
            } else {
                lit.parse()
            };
            out.push(Tok::Num(
                v.unwrap_or_else(|_| panic!("bad literal {:?}", &s[start..i])),
            ));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[start..i].to_string()));
        } else if let Some(op) = OPS.iter().find(|op| s[i..].starts_with(**op)) {
            out.push(Tok::Op(op));
            i += op.len();
        } else {
            panic!("cannot evaluate {s:?}: unsupported {c:?}");
        }
    }
    out
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
    tree: &'a CTree,
    depth: usize,
}

impl Parser<'_> {
    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.toks.get(self.pos), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) {
        assert!(
            self.eat(op),
            "expected {op:?} at {:?}",
            &self.toks[self.pos..]
        );
    }

    fn or(&mut self) -> u128 {
        let mut v = self.and();
        while self.eat("|") {
            v |= self.and();
        }
        v
    }

    fn and(&mut self) -> u128 {
        let mut v = self.shift();
        while self.eat("&") {
            v &= self.shift();
        }
        v
    }

    fn shift(&mut self) -> u128 {
        let mut v = self.add();
        loop {
            if self.eat("<<") {
                v <<= self.add();
            } else if self.eat(">>") {
                v >>= self.add();
            } else {
                return v;
            }
        }
    }

    fn add(&mut self) -> u128 {
        let mut v = self.mul();
        loop {
            if self.eat("+") {
                v += self.mul();
            } else if self.eat("-") {
                v -= self.mul();
            } else {
                return v;
            }
        }
    }

    fn mul(&mut self) -> u128 {
        let mut v = self.unary();
        while self.eat("*") {
            v *= self.unary();
        }
        v
    }

    fn unary(&mut self) -> u128 {
        if self.eat("~") {
            // C's unsigned long.
            return !self.unary() & u64::MAX as u128;
        }
        if self.eat("(") {
            let v = self.or();
            self.expect(")");
            return v;
        }
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                n
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                match name.as_str() {
                    "_AC" | "_AT" => {
                        self.expect("(");
                        let v = self.or();
                        self.expect(",");
                        self.pos += 1; // the suffix or type
                        self.expect(")");
                        v
                    }
                    "_UL" | "_ULL" | "UL" | "ULL" | "BIT" | "BIT_ULL" => {
                        self.expect("(");
                        let v = self.or();
                        self.expect(")");
                        if name.starts_with("BIT") {
                            1 << v
                        } else {
                            v
                        }
                    }
                    _ => {
                        assert!(self.depth < 32, "macro recursion at {name}");
                        let body = self.tree.body(&name).to_string();
                        let toks = tokens(&body);
                        let mut p = Parser {
                            toks: &toks,
                            pos: 0,
                            tree: self.tree,
                            depth: self.depth + 1,
                        };
                        let v = p.or();
                        assert!(p.pos == toks.len(), "cannot evaluate {name} = {body:?}");
                        v
                    }
                }
            }
            t => panic!("unexpected {t:?} in a constant expression"),
        }
    }
}
