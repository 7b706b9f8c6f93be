; Strings (@string) and comments (@comment): no completion mode change inside them.
[(string_literal) (raw_string_literal) (char_literal)] @string
[(line_comment) (block_comment)] @comment
