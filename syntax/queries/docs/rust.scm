; Documentation targets. @definition.function / .method / .class around a definition, with @name,
; @parameters and @body (structs, enums, unions and traits are the classes; a method is a
; function in an impl or trait). Facts gathered for every definition (each belongs to the
; innermost definition or @scope holding it): @param (a parameter name; `self` is none), @return
; (a return type other than () or ! is declared, or a value is returned).
; Layout: @attribute (an attribute standing before an item), @comment.
(function_item
  name: (identifier) @name
  parameters: (parameters) @parameters
  body: (block) @body) @definition.function
(declaration_list
  (function_item
    name: (identifier) @name
    parameters: (parameters) @parameters
    body: (block) @body) @definition.method)
(declaration_list
  (function_signature_item
    name: (identifier) @name
    parameters: (parameters) @parameters) @definition.method)
(struct_item name: (type_identifier) @name body: (_)? @body) @definition.class
(enum_item name: (type_identifier) @name body: (_) @body) @definition.class
(union_item name: (type_identifier) @name body: (_) @body) @definition.class
(trait_item name: (type_identifier) @name body: (_) @body) @definition.class

(parameter pattern: (identifier) @param)
(parameter pattern: (mut_pattern (identifier) @param))

(return_expression (_)) @return
(_ return_type: (_) @return (#not-match? @return "^(\\(\\s*\\)|!)$"))

(closure_expression) @scope

(attribute_item) @attribute

[(line_comment) (block_comment)] @comment
