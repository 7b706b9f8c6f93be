; Documentation targets. @definition.function / .method / .class around a definition, with @name,
; @parameters and @body (classes, interfaces, enums and records are the classes; methods and
; constructors the methods). Facts gathered for every definition (each belongs to the innermost
; definition or @scope holding it): @param (a parameter name), @return (a return type other than
; void, or a returned value), @raise (an exception class thrown or declared by `throws`).
; Annotations are part of the definition node. Layout: @comment.
(method_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (block)? @body) @definition.method
(constructor_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (constructor_body) @body) @definition.method
(class_declaration name: (identifier) @name body: (class_body) @body) @definition.class
(interface_declaration name: (identifier) @name body: (interface_body) @body) @definition.class
(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.class
(record_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (class_body) @body) @definition.class

(formal_parameter name: (identifier) @param)
(spread_parameter (variable_declarator name: (identifier) @param))

(return_statement (_)) @return
(method_declaration type: (_) @return (#not-eq? @return "void"))

(throw_statement (object_creation_expression type: (_) @raise))
(throws (_) @raise)

(lambda_expression) @scope

[(line_comment) (block_comment)] @comment
