; Documentation targets. @definition.function / .method / .class around a definition, with @name,
; @parameters and @body. Facts gathered for every definition (each belongs to the innermost
; definition or @scope holding it): @param (a parameter name; destructured parameters have none),
; @return (a value is returned or yielded), @raise (an exception class thrown with `new`).
; Layout: @wrapper (a node around a definition that its documentation goes above), @comment.
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
(class_declaration name: (identifier) @name body: (class_body) @body) @definition.class

(formal_parameters (identifier) @param)
(formal_parameters (assignment_pattern left: (identifier) @param))
(formal_parameters (rest_pattern (identifier) @param))
(arrow_function parameter: (identifier) @param)

(return_statement (_)) @return
(yield_expression) @return
(arrow_function body: (expression) @return)

(throw_statement (new_expression constructor: [(identifier) (member_expression)] @raise))

[(function_expression) (arrow_function) (generator_function) (class)] @scope

(export_statement) @wrapper

(comment) @comment
