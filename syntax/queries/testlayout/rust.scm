; What Rust nodes are to the test layout (kodama.syntax.testlayout): a module written
; @module.inline (tests go before its closing brace) or @module.declared out of line
; (`mod tests;`: tests go to its file); which module is the test module is decided by its name,
; compared in Python (text predicates fail on lone surrogates); @use declarations are
; de-duplicated; an @attribute just before a generated test module (`#[cfg(test)]`) is dropped
; with it.
(mod_item body: (_)) @module.inline

(mod_item !body) @module.declared

(use_declaration) @use

(attribute_item) @attribute
