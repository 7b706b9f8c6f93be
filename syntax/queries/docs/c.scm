; Documentation targets. @definition.function / .class around a definition, with @name,
; @parameters and @body (structs, unions and enums with a body are the classes). Facts gathered
; for every definition (each belongs to the innermost definition holding it): @param (a parameter
; name), @return (a return type other than void is declared — a pointer declarator around the
; function declarator stands for a pointer type — or a value is returned).
; Layout: @wrapper (a node around a definition that its documentation goes above), @comment.
(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name parameters: (parameter_list) @parameters)
    (pointer_declarator
      declarator: (function_declarator
        declarator: (identifier) @name
        parameters: (parameter_list) @parameters))
    (pointer_declarator
      declarator: (pointer_declarator
        declarator: (function_declarator
          declarator: (identifier) @name
          parameters: (parameter_list) @parameters)))
  ]
  body: (compound_statement) @body) @definition.function
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
(parameter_declaration
  declarator: (function_declarator
    declarator: (parenthesized_declarator (pointer_declarator declarator: (identifier) @param))))

(return_statement (_)) @return
(function_definition
  type: (_) @return
  declarator: (function_declarator)
  (#not-eq? @return "void"))
(function_definition declarator: (pointer_declarator) @return)

(type_definition type: (_ body: (_))) @wrapper

(comment) @comment
