; Block bodies (@block) and the tokens that open one at the end of a line (@opener).
(block) @block

(function_definition ":" @opener)
(class_definition ":" @opener)
(if_statement ":" @opener)
(elif_clause ":" @opener)
(else_clause ":" @opener)
(for_statement ":" @opener)
(while_statement ":" @opener)
(with_statement ":" @opener)
(try_statement ":" @opener)
(except_clause ":" @opener)
(finally_clause ":" @opener)
(match_statement ":" @opener)
(case_clause ":" @opener)
; Incomplete code: a header whose body is not written yet often parses as ERROR.
(ERROR ":" @opener)
