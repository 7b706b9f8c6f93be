; Strings (@string) and comments (@comment): no completion mode change inside them.
[(string_literal) (raw_string_literal) (char_literal) (system_lib_string)] @string
(comment) @comment
