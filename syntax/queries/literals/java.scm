; Strings (@string) and comments (@comment): no completion mode change inside them.
[(string_literal) (character_literal)] @string
[(line_comment) (block_comment)] @comment
