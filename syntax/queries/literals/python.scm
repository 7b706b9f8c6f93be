; Strings (@string) and comments (@comment): no completion mode change inside them.
(string) @string
(comment) @comment
