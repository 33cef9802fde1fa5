//! Interned names.
//!
//! A [`Sym`] identifies a name by its underscore spelling (`send-next` and `send_next` are one
//! name, §2.3); the interner remembers the first spelling seen, for messages. [`suggest`]
//! finds the known name closest to a misspelt one, for "did you mean" help.

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

/// The candidate closest to `name` by edit distance (on underscore spellings, ignoring case),
/// if it is close enough to be a likely misspelling: one edit for names of 3 to 7 characters,
/// about one in four for longer ones, none for names shorter than 3.
pub(crate) fn suggest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let norm = |s: &str| s.replace('-', "_").to_ascii_lowercase();
    let target = norm(name);
    let len = target.chars().count();
    if len < 3 {
        return None; // every short name is one edit from another
    }
    let limit = (len / 4).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = distance(&target, &norm(c));
        if d == 0 || d > limit {
            continue;
        }
        if best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance, with a transposition of adjacent characters counting as one edit.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::suggest;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        let names = ["Window", "Segment", "rcv-next", "snd-una"];
        assert_eq!(suggest("Windw", names), Some("Window"));
        assert_eq!(
            suggest("rcv_nxet", names),
            Some("rcv-next"),
            "a transposition is one edit"
        );
        assert_eq!(
            suggest("snd_una", names),
            None,
            "the same name is no suggestion"
        );
        assert_eq!(suggest("Timer", names), None);
        assert_eq!(
            suggest("x", ["y", "xy"]),
            None,
            "short names get no suggestion"
        );
        assert_eq!(
            suggest("cwnd", ["swnd", "rwnd", "cwnd-max"]),
            Some("rwnd"),
            "ties broken by name"
        );
    }
}
