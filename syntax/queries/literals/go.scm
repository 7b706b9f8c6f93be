; Strings (@string) and comments (@comment): no completion mode change inside them.
[(interpreted_string_literal) (raw_string_literal) (rune_literal)] @string
(comment) @comment
