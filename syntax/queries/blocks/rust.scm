; Block bodies (@block) and the tokens that open one at the end of a line (@opener).
[
  (block)
  (declaration_list)
  (field_declaration_list)
  (enum_variant_list)
  (match_block)
] @block

"{" @opener
