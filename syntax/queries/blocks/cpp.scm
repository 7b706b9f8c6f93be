; Block bodies (@block) and the tokens that open one at the end of a line (@opener).
[
  (compound_statement)
  (field_declaration_list)
  (declaration_list)
  (enumerator_list)
] @block

"{" @opener
(case_statement ":" @opener)
(field_declaration_list ":" @opener)
