; Documentation targets. @definition.function / .method / .class around a definition, with @name,
; @parameters and @body (classes, structs, unions and enums with a body are the classes; a
; function defined in a class body or as Class::name is a method). Facts gathered for every
; definition (each belongs to the innermost definition or @scope holding it): @param (a parameter
; name), @return (a return type other than void is declared — a pointer or reference declarator
; around the function declarator stands for such a type — or a value is returned), @raise (the
; exception class of `throw X(…)`).
; Layout: @wrapper (a node around a definition that its documentation goes above), @comment.
(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name parameters: (parameter_list) @parameters)
    (pointer_declarator
      declarator: (function_declarator
        declarator: (identifier) @name
        parameters: (parameter_list) @parameters))
    (reference_declarator
      (function_declarator
        declarator: (identifier) @name
        parameters: (parameter_list) @parameters))
  ]
  body: (compound_statement) @body) @definition.function
(function_definition
  declarator: [
    (function_declarator
      declarator: (qualified_identifier name: [(identifier) (destructor_name)] @name)
      parameters: (parameter_list) @parameters)
    (pointer_declarator
      declarator: (function_declarator
        declarator: (qualified_identifier name: [(identifier) (destructor_name)] @name)
        parameters: (parameter_list) @parameters))
    (reference_declarator
      (function_declarator
        declarator: (qualified_identifier name: [(identifier) (destructor_name)] @name)
        parameters: (parameter_list) @parameters))
  ]
  body: (compound_statement) @body) @definition.method
(field_declaration_list
  (function_definition
    declarator: [
      (function_declarator
        declarator: [(field_identifier) (identifier) (destructor_name) (operator_name)] @name
        parameters: (parameter_list) @parameters)
      (pointer_declarator
        declarator: (function_declarator
          declarator: (field_identifier) @name
          parameters: (parameter_list) @parameters))
      (reference_declarator
        (function_declarator
          declarator: (field_identifier) @name
          parameters: (parameter_list) @parameters))
    ]
    body: (compound_statement) @body) @definition.method)
(class_specifier
  name: (type_identifier) @name
  body: (field_declaration_list) @body) @definition.class
(struct_specifier
  name: (type_identifier) @name
  body: (field_declaration_list) @body) @definition.class
(union_specifier
  name: (type_identifier) @name
  body: (field_declaration_list) @body) @definition.class
(enum_specifier name: (type_identifier) @name body: (enumerator_list) @body) @definition.class

(parameter_declaration declarator: (identifier) @param)
(parameter_declaration declarator: (_ declarator: (identifier) @param))
(parameter_declaration declarator: (_ declarator: (_ declarator: (identifier) @param)))
(parameter_declaration declarator: (reference_declarator (identifier) @param))
(parameter_declaration
  declarator: (function_declarator
    declarator: (parenthesized_declarator (pointer_declarator declarator: (identifier) @param))))
(optional_parameter_declaration declarator: (identifier) @param)
(optional_parameter_declaration declarator: (_ declarator: (identifier) @param))
(optional_parameter_declaration declarator: (reference_declarator (identifier) @param))
(variadic_parameter_declaration declarator: (variadic_declarator (identifier) @param))

(return_statement (_)) @return
(function_definition
  type: (_) @return
  declarator: (function_declarator)
  (#not-eq? @return "void"))
(function_definition declarator: [(pointer_declarator) (reference_declarator)] @return)

(throw_statement (call_expression function: [(identifier) (qualified_identifier)] @raise))

(lambda_expression) @scope

[(template_declaration) (type_definition type: (_ body: (_)))] @wrapper

(comment) @comment
