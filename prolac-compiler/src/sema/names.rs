//! Interned names.
//!
//! A [`Sym`] identifies a name by its underscore spelling (`send-next` and `send_next` are one
//! name, §2.3); the interner remembers the first spelling seen, for messages.

use std::collections::HashMap;

/// An interned name.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) struct Sym(u32);

/// The name interner.
#[derive(Debug, Default)]
pub(crate) struct Names {
    keys: Vec<String>,
    spellings: Vec<String>,
    index: HashMap<String, Sym>,
}

impl Names {
    /// Interns a name as written.
    pub(crate) fn intern(&mut self, text: &str) -> Sym {
        let key = text.replace('-', "_");
        if let Some(&s) = self.index.get(&key) {
            return s;
        }
        let s = Sym(self.keys.len() as u32);
        self.keys.push(key.clone());
        self.spellings.push(text.to_string());
        self.index.insert(key, s);
        s
    }

    /// Looks a name up without interning it.
    pub(crate) fn get(&self, text: &str) -> Option<Sym> {
        self.index.get(&text.replace('-', "_")).copied()
    }

    /// The first spelling seen.
    pub(crate) fn text(&self, s: Sym) -> &str {
        &self.spellings[s.0 as usize]
    }

    /// The underscore spelling.
    pub(crate) fn key(&self, s: Sym) -> &str {
        &self.keys[s.0 as usize]
    }
}
