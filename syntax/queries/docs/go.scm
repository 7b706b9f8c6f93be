; Documentation targets. @definition.function / .method / .class around a definition, with @name,
; @parameters and @body (structs and interfaces are the classes). Facts gathered for every
; definition (each belongs to the innermost definition or @scope holding it): @param (a parameter
; name; receivers are not parameters), @return (a result type is declared, or a value returned).
; Layout: @wrapper (a node around a definition that its documentation goes above), @comment.
(function_declaration
  name: (identifier) @name
  parameters: (parameter_list) @parameters
  body: (block) @body) @definition.function
(method_declaration
  name: (field_identifier) @name
  parameters: (parameter_list) @parameters
  body: (block) @body) @definition.method
(type_spec
  name: (type_identifier) @name
  type: [
    (struct_type (field_declaration_list) @body)
    (interface_type) @body
  ]) @definition.class

(parameter_declaration name: (identifier) @param)
(variadic_parameter_declaration name: (identifier) @param)

(return_statement (_)) @return
(_ result: (_) @return)

(func_literal) @scope

; `type T struct {…}` alone: documentation goes above `type`, not inside a `type ( … )` group.
(type_declaration . (type_spec) .) @wrapper

(comment) @comment
