; Documentation targets. @definition.function / .method / .class around a definition, with @name,
; @parameters and @body. Facts gathered for every definition (each belongs to the innermost
; definition or @scope holding it): @param (a parameter name; destructured parameters and `this`
; have none), @return (a value is returned or yielded, or a return type other than void is
; declared), @raise (an exception class thrown with `new`).
; Layout: @wrapper (a node around a definition that its documentation goes above), @attribute (a
; decorator standing before a class member), @comment. TSX uses this file too.
(function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function
(generator_function_declaration
  name: (identifier) @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.function
(lexical_declaration
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
      (arrow_function parameter: (identifier) @parameters body: (_) @body)
      (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
      (generator_function parameters: (formal_parameters) @parameters body: (_) @body)
    ])) @definition.function
(variable_declaration
  (variable_declarator
    name: (identifier) @name
    value: [
      (arrow_function parameters: (formal_parameters) @parameters body: (_) @body)
      (arrow_function parameter: (identifier) @parameters body: (_) @body)
      (function_expression parameters: (formal_parameters) @parameters body: (_) @body)
      (generator_function parameters: (formal_parameters) @parameters body: (_) @body)
    ])) @definition.function
(method_definition
  name: [(property_identifier) (private_property_identifier)] @name
  parameters: (formal_parameters) @parameters
  body: (statement_block) @body) @definition.method
(class_declaration name: (type_identifier) @name body: (class_body) @body) @definition.class
(abstract_class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @definition.class
(interface_declaration
  name: (type_identifier) @name
  body: (interface_body) @body) @definition.class
(enum_declaration name: (identifier) @name body: (enum_body) @body) @definition.class

(formal_parameters (required_parameter pattern: (identifier) @param))
(formal_parameters (optional_parameter pattern: (identifier) @param))
(formal_parameters (required_parameter pattern: (rest_pattern (identifier) @param)))
(arrow_function parameter: (identifier) @param)

(return_statement (_)) @return
(yield_expression) @return
(arrow_function body: (expression) @return)
(_ return_type: (type_annotation (_) @return
  (#not-match? @return "^(void|never|undefined|Promise<void>)$")))

(throw_statement (new_expression constructor: [(identifier) (member_expression)] @raise))

[(function_expression) (arrow_function) (generator_function) (class)] @scope

(export_statement) @wrapper
(class_body decorator: (decorator) @attribute)

(comment) @comment
