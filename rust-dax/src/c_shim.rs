// SPDX-License-Identifier: GPL-2.0

//! Running the kernel's own C on the host (host-only, for the agreement tests).
//!
//! A shim is a small C program: definitions cut verbatim out of the files of the applied tree
//! ([`CFile`], [`member()`]), after a prelude of stub types and macros for what they use from
//! the rest of the kernel, and a driver `main()` that answers each line of stdin with one line of
//! stdout. [`CShim::build()`] compiles it with `cc` once per source text (the source and the
//! executable are kept in the target directory, named by a hash of the source) and starts it;
//! the tests of a test binary share that one process through [`CShim::ask()`], so a property
//! test costs a pipe round trip per case.

use crate::c_defs::CTree;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, PoisonError};

/// The flags of every shim: the kernel's `-fno-strict-overflow`, and no warnings.
const CFLAGS: [&str; 5] = [
    "-std=gnu11",
    "-O2",
    "-Wall",
    "-Werror",
    "-fno-strict-overflow",
];

/// A compiled shim and its running driver process.
pub(crate) struct CShim {
    src: PathBuf,
    driver: Mutex<Driver>,
}

struct Driver {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl CShim {
    /// Compiles the C program `src` (unless a build of the same text exists) and starts it.
    /// Panics with `cc`'s messages if it does not compile.
    pub(crate) fn build(name: &str, src: &str) -> Self {
        let mut h = DefaultHasher::new();
        (src, CFLAGS).hash(&mut h);
        let dir = std::env::current_exe()
            .expect("the test binary")
            .with_file_name("c-shims");
        let exe = dir.join(format!("{name}-{:016x}", h.finish()));
        let c = exe.with_extension("c");
        if !exe.exists() {
            // Another test binary may build the same shim: each writes its own files and
            // renames them into place.
            std::fs::create_dir_all(&dir).unwrap();
            let tmp = |p: &PathBuf| p.with_extension(format!("{}.tmp", std::process::id()));
            std::fs::write(tmp(&c), src).unwrap();
            std::fs::rename(tmp(&c), &c).unwrap();
            let out = Command::new("cc")
                .args(CFLAGS)
                .arg("-o")
                .arg(tmp(&exe))
                .arg(&c)
                .output()
                .unwrap_or_else(|e| panic!("cannot run cc: {e}"));
            assert!(
                out.status.success(),
                "cc cannot build the C shim {}:\n{}",
                c.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::rename(tmp(&exe), &exe).unwrap();
        }
        let mut child = Command::new(&exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
        let driver = Driver {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
        };
        Self {
            src: c,
            driver: Mutex::new(driver),
        }
    }

    /// Sends `line` to the driver and returns the line it answers.
    pub(crate) fn ask(&self, line: &str) -> String {
        let mut d = self.driver.lock().unwrap_or_else(PoisonError::into_inner);
        let d = &mut *d;
        let mut answer = String::new();
        let n = writeln!(d.stdin, "{line}")
            .and_then(|()| d.stdin.flush())
            .and_then(|()| d.stdout.read_line(&mut answer));
        assert!(
            matches!(n, Ok(n) if n > 0),
            "the C shim {} gave no answer to {line:?} ({:?}, exit status {:?})",
            self.src.display(),
            n,
            d.child.try_wait()
        );
        answer.truncate(answer.trim_end().len());
        answer
    }

    /// [`Self::ask()`] for a driver that answers with decimal numbers separated by spaces.
    pub(crate) fn ask_numbers(&self, line: &str) -> Vec<u64> {
        let answer = self.ask(line);
        answer
            .split_whitespace()
            .map(|n| {
                n.parse().unwrap_or_else(|_| {
                    panic!("the C shim {} answered {answer:?}", self.src.display())
                })
            })
            .collect()
    }
}

/// A C file of the tree, to cut definitions out of. Each cutter returns the definition verbatim
/// and panics, naming the file, unless there is exactly one.
pub(crate) struct CFile {
    path: String,
    text: String,
}

impl CFile {
    /// `path` at the tree's revision.
    pub(crate) fn read(tree: &CTree, path: &str) -> Self {
        Self::from_text(path, tree.read(path))
    }

    /// A file with the contents `text` (for testing the cutters).
    pub(crate) fn from_text(path: &str, text: String) -> Self {
        Self {
            path: path.into(),
            text,
        }
    }

    /// The whole text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    fn one<T>(&self, what: String, found: Vec<T>) -> T {
        let n = found.len();
        match <[T; 1]>::try_from(found) {
            Ok([one]) => one,
            Err(_) => panic!("{}: {n} definitions of {what} instead of one", self.path),
        }
    }

    /// The definition of the C function `name`: from the start of the line where its declaration
    /// starts (the line before if the name is in column 0) to the `}` in column 0 that closes it.
    pub(crate) fn function(&self, name: &str) -> String {
        let defs = definitions(&self.text, name);
        let (start, end) = self.one(format!("{name}()"), defs);
        self.text[start..end].to_string()
    }

    /// The definition of the C function `name` that the preprocessor conditional `cond` (a line
    /// such as `#ifdef CONFIG_FOO`) selects: the one in that conditional's first branch, with no
    /// other conditional in between.
    pub(crate) fn function_if(&self, name: &str, cond: &str) -> String {
        let defs = definitions(&self.text, name)
            .into_iter()
            .filter(|(start, _)| {
                innermost_conditional(&self.text[..*start])
                    .is_some_and(|(c, first)| first && c == cond)
            })
            .collect();
        let (start, end) = self.one(format!("{name}() under {cond:?}"), defs);
        self.text[start..end].to_string()
    }

    /// The `#define` of `name` (object- or function-like), with its continuation lines.
    pub(crate) fn define(&self, name: &str) -> String {
        let mut found = Vec::new();
        let mut lines = self.text.split_inclusive('\n');
        while let Some(line) = lines.next() {
            let Some(rest) = line.trim_start().strip_prefix('#') else {
                continue;
            };
            let Some(rest) = rest.trim_start().strip_prefix("define") else {
                continue;
            };
            let rest = rest.trim_start();
            if rest
                .strip_prefix(name)
                .is_some_and(|r| r.starts_with(['(', ' ', '\t', '\n']))
            {
                let mut def = line.to_string();
                while def.trim_end().ends_with('\\') {
                    def.push_str(lines.next().unwrap_or_default());
                }
                found.push(def);
            }
        }
        self.one(name.into(), found)
    }

    /// The definition of `struct name`, from `struct name {` in column 0 to the `};` in column 0.
    pub(crate) fn struct_def(&self, name: &str) -> String {
        let head = format!("\nstruct {name} {{\n");
        let defs = self
            .text
            .match_indices(&head)
            .filter_map(|(at, _)| Some(at + 1..at + self.text[at..].find("\n};\n")? + 4))
            .collect();
        let range = self.one(format!("struct {name}"), defs);
        self.text[range].to_string()
    }
}

/// Byte offsets of the definitions of the C function `name` in `text` (see
/// [`CFile::function()`]).
fn definitions(text: &str, name: &str) -> Vec<(usize, usize)> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::new();
    for (at, _) in text.match_indices(&format!("{name}(")) {
        if text[..at].ends_with(ident) {
            continue;
        }
        let line = text[..at].rfind('\n').map_or(0, |n| n + 1);
        let head = &text[line..at];
        // A definition starts in column 0; calls, comments and macros do not.
        if head.starts_with([' ', '\t', '#', '*', '/']) || head.contains(['=', ';', '(', ')']) {
            continue;
        }
        let mut depth = 0;
        let Some(close) = text[at..].find(|c| {
            depth += i32::from(c == '(') - i32::from(c == ')');
            c == ')' && depth == 0
        }) else {
            continue;
        };
        let after = at + close + 1;
        if !text[after..].trim_start().starts_with('{') {
            continue; // a prototype
        }
        let Some(brace) = text[after..].find("\n}") else {
            continue;
        };
        let start = if head.is_empty() {
            text[..line.saturating_sub(1)]
                .rfind('\n')
                .map_or(0, |n| n + 1)
        } else {
            line
        };
        let end = after + brace + 2;
        let end = text[end..].find('\n').map_or(text.len(), |n| end + n + 1);
        out.push((start, end));
    }
    out
}

/// The innermost preprocessor conditional open at the end of `text`, normalized (`#ifdef X`),
/// and whether the end is in its first branch.
fn innermost_conditional(text: &str) -> Option<(String, bool)> {
    let mut open: Vec<(String, bool)> = Vec::new();
    for line in text.lines() {
        let Some(d) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let words: Vec<&str> = d.split_whitespace().collect();
        match words.first().copied() {
            Some("if" | "ifdef" | "ifndef") => open.push((format!("#{}", words.join(" ")), true)),
            Some("elif" | "else") => {
                if let Some(top) = open.last_mut() {
                    top.1 = false;
                }
            }
            Some("endif") => {
                open.pop();
            }
            _ => {}
        }
    }
    open.pop()
}

/// The declaration of the member `field` in the struct definition `def`, verbatim (one line,
/// without indentation); panics unless there is exactly one.
pub(crate) fn member(def: &str, field: &str) -> String {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let decls: Vec<&str> = def
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.strip_suffix(';')
                .and_then(|l| l.strip_suffix(field))
                .is_some_and(|ty| !ty.is_empty() && !ty.ends_with(ident))
        })
        .collect();
    match decls[..] {
        [decl] => decl.to_string(),
        _ => panic!("{} declarations of {field} in {def}", decls.len()),
    }
}

#[test]
fn the_cutter_finds_what_the_kernel_writes() {
    let f = CFile::from_text(
        "test.h",
        "/* foo(x) */\n#define PFN(x)\t((x) >> \\\n\tSHIFT)\n#define SHIFT 12\n\
         static inline int foo(int x);\n\
         static inline int foo(int x)\n{\n\treturn bar(x) + foo2(x);\n}\n\n\
         unsigned long\nbar(int (*f)(int), int x)\n{\n\tif (x) {\n\t\treturn 1;\n\t}\n\
         \treturn foo(x);\n}\nEXPORT_SYMBOL(bar);\n\
         #ifdef CONFIG_A\nstatic int baz(void)\n{\n\treturn 1;\n}\n\
         #else\nstatic int baz(void)\n{\n\treturn 0;\n}\n#endif\n\
         struct s {\n\tconst unsigned long a;\n\tstruct t *b;\n\tunsigned long ab;\n};\n"
            .into(),
    );
    assert_eq!(
        f.function("foo"),
        "static inline int foo(int x)\n{\n\treturn bar(x) + foo2(x);\n}\n"
    );
    assert!(f.function("bar").starts_with("unsigned long\nbar("));
    assert!(f.function("bar").ends_with("\treturn foo(x);\n}\n"));
    assert_eq!(
        f.function_if("baz", "#ifdef CONFIG_A"),
        "static int baz(void)\n{\n\treturn 1;\n}\n"
    );
    let e = std::panic::catch_unwind(|| f.function("baz")).unwrap_err();
    assert_eq!(
        e.downcast_ref::<String>().unwrap(),
        "test.h: 2 definitions of baz() instead of one"
    );
    assert!(std::panic::catch_unwind(|| f.function_if("baz", "#ifdef CONFIG_B")).is_err());
    assert!(std::panic::catch_unwind(|| f.function("foo2")).is_err());
    assert_eq!(f.define("PFN"), "#define PFN(x)\t((x) >> \\\n\tSHIFT)\n");
    assert_eq!(f.define("SHIFT"), "#define SHIFT 12\n");
    let s = f.struct_def("s");
    assert!(s.starts_with("struct s {\n") && s.ends_with("\tunsigned long ab;\n};\n"));
    assert_eq!(member(&s, "a"), "const unsigned long a;");
    assert_eq!(member(&s, "b"), "struct t *b;");
}
