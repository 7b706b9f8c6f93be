; Strings (@string) and comments (@comment): no completion mode change inside them.
[(string) (template_string) (regex)] @string
(comment) @comment
