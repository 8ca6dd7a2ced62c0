import FilterQuery
import JSON
import SQLBuilding
import Testing

/// Every way a document can be wrong gets a message that names the place and the fix.
@Suite struct ParseErrorTests {
    @Test(arguments: [
        (#""versions""#, #"$filter: expected an object such as {"table": "versions"}, not a string"#),
        (#"{}"#, #"$filter: 'table' is required: the table to read, such as "versions" or "analyses AS A""#),
        (#"{"table": "t", "tables": 1}"#, #"$filter: unknown key "tables"; use "table", "select", "distinct", "count", "joins", "where", "order_by", "group_by", "limit", "offset""#),
        (#"{"table": 5}"#, #"$filter.table: expected a table name such as "versions" or "analyses AS A", not a number"#),
        (#"{"table": "a AS b c"}"#, #"$filter.table: "a AS b c" is not a table; write "versions" or "analyses AS A""#),
        (#"{"table": "t", "select": 1}"#, #"$filter.select: expected a string or a list of strings, not a number"#),
        (#"{"table": "t", "select": ["a", 2]}"#, #"$filter.select[1]: expected a string, not a number"#),
        (#"{"table": "t", "select": "lower(name)"}"#, #"$filter.select: "lower" is not a function a filter may call; use count, min, max, sum, avg"#),
        (#"{"table": "t", "select": "max(*)"}"#, #"$filter.select: only count takes *, not max"#),
        (#"{"table": "t", "select": "count(id"}"#, #"$filter.select: "count(id" is missing its closing parenthesis"#),
        (#"{"table": "t", "select": "name as"}"#, #"$filter.select: "name as" is not a valid SQL name: it may contain only letters, digits and '_', and may not start with a digit"#),
        (#"{"table": "t", "count": true, "select": "a"}"#, #"$filter.count: 'count' cannot be combined with 'select'; write "select": "count(*)" instead"#),
        (#"{"table": "t", "count": true, "distinct": true}"#, #"$filter.count: 'count' cannot be combined with 'distinct'; write "select": "count(distinct column)" instead"#),
        (#"{"table": "t", "count": "yes"}"#, #"$filter.count: expected true or false, not a string"#),
        (#"{"table": "t", "distinct": 1}"#, #"$filter.distinct: expected true or false, not a number"#),
        (#"{"table": "t", "joins": "versions"}"#, #"$filter.joins: expected a join object or a list of them, not a string"#),
        (#"{"table": "t", "joins": [{"table": "a", "using": "x"}, {"table": "b", "on": ["x"]}]}"#, #"$filter.joins[1].on: expected an object of column pairs, such as {"a.id": "b.a_id"}, not an array"#),
        (#"{"table": "t", "joins": [{"table": "b", "on": {}}]}"#, #"$filter.joins[0].on: expected an object of column pairs, such as {"a.id": "b.a_id"}, not an empty object"#),
        (#"{"table": "t", "joins": [{"table": "b", "on": {"t.x": 1}}]}"#, #"$filter.joins[0].on["t.x"]: expected the name of the column to match, not a number"#),
        (#"{"table": "t", "joins": [{"on": {"a": "b"}}]}"#, #"$filter.joins[0]: 'table' is required: the table to join"#),
        (#"{"table": "t", "joins": [{"table": "b", "how": "left"}]}"#, #"$filter.joins[0]: unknown key "how"; use "table", "on", "using", "type", "join_type""#),
        (#"{"table": "t", "joins": [{"table": "b", "type": "cross"}]}"#, #"$filter.joins[0].type: "cross" is not a join type; use "inner", "left", "right" or "full""#),
        (#"{"table": "t", "joins": [{"table": "b", "join_type": 1}]}"#, #"$filter.joins[0].join_type: 1 is not a join type; use "inner", "left", "right" or "full""#),
        (#"{"table": "t", "joins": [{"table": "b", "type": "left", "join_type": "left"}]}"#, #"$filter.joins[0]: give 'type' or 'join_type', not both"#),
        (#"{"table": "t", "joins": [{"table": "b", "on": {"a": "b"}, "using": ["x"]}]}"#, #"$filter.joins[0]: give 'on' or 'using', not both"#),
        (#"{"table": "t", "joins": [{"table": "b", "using": []}]}"#, #"$filter.joins[0].using: expected at least one column"#),
        (#"{"table": "t", "joins": [{"table": "b", "using": ["b.x"]}]}"#, #"$filter.joins[0].using[0]: "b.x" is not a valid SQL name: it may contain only letters, digits and '_', and may not start with a digit"#),
        (#"{"table": "t", "where": []}"#, #"$filter.where: expected an object of conditions such as {"name": "serve-static"}, not an array"#),
        (#"{"table": "t", "where": {" ": 1}}"#, #"$filter.where[" "]: expected a column, optionally followed by an operator, such as "started_at >""#),
        (#"{"table": "t", "where": {"a >": null}}"#, #"$filter.where["a >"]: null cannot be compared with '>'; use "a is": null or "a is not": null"#),
        (#"{"table": "t", "where": {"a like": [1]}}"#, #"$filter.where["a like"]: a list can only be used with 'in' or 'not in', not 'like'"#),
        (#"{"table": "t", "where": {"a in": [1, null]}}"#, #"$filter.where["a in"][1]: null in a list never matches; use a separate "column is": null condition"#),
        (#"{"table": "t", "where": {"a in": [1, [2]]}}"#, #"$filter.where["a in"][1]: expected a string, number or boolean, not an array"#),
        (#"{"table": "t", "where": {"a in": 1}}"#, #"$filter.where["a in"]: 'in' expects a list or a sub-select {"$filter": {...}}, not a number"#),
        (#"{"table": "t", "where": {"a is": "x"}}"#, #"$filter.where["a is"]: 'is' compares with null, true or false, not a string; use '=' for other values"#),
        (#"{"table": "t", "where": {"a is": {"$filter": {"table": "u"}}}}"#, #"$filter.where["a is"]: 'is' compares with null, true or false, not a sub-select"#),
        (#"{"table": "t", "where": {"a like": 5}}"#, #"$filter.where["a like"]: 'like' expects a string pattern, not a number"#),
        (#"{"table": "t", "where": {"a": {"b": 1}}}"#, #"$filter.where["a"]: an object value must be a sub-select {"$filter": {...}}; values are strings, numbers, booleans, null or lists"#),
        (#"{"table": "t", "where": {"a": {"$filter": {"table": "u"}, "x": 1}}}"#, #"$filter.where["a"]: an object value must be a sub-select {"$filter": {...}}; values are strings, numbers, booleans, null or lists"#),
        (#"{"table": "t", "where": {"a": {"$filter": {"tabel": "u"}}}}"#, #"$filter.where["a"].$filter: unknown key "tabel"; use "table", "select", "distinct", "count", "joins", "where", "order_by", "group_by", "limit", "offset""#),
        (#"{"table": "t", "where": {"$or": []}}"#, #"$filter.where["$or"]: expected a non-empty list of condition objects, such as [{"a": 1}, {"b": 2}], not an empty list"#),
        (#"{"table": "t", "where": {"$and": {"a": 1}}}"#, #"$filter.where["$and"]: expected a non-empty list of condition objects, such as [{"a": 1}, {"b": 2}], not an object"#),
        (#"{"table": "t", "where": {"$or": [{"a": 1}, {}]}}"#, #"$filter.where["$or"][1]: expected a non-empty object of conditions, not an empty object"#),
        (#"{"table": "t", "where": {"$or": [{"a": 1}, 2]}}"#, #"$filter.where["$or"][1]: expected a non-empty object of conditions, not a number"#),
        (#"{"table": "t", "where": {"$or": [{"a b c": 1}]}}"#, #"$filter.where["$or"][0]["a b c"]: "b c" is not an operator; use =, !=, <>, <, <=, >, >=, like, not like, ilike, not ilike, in, not in, is, is not"#),
        (#"{"table": "t", "order_by": "*"}"#, #"$filter.order_by: "*" can only be selected, not sorted by"#),
        (#"{"table": "t", "order_by": ["a", "b nulls middle"]}"#, #"$filter.order_by[1]: "b nulls middle": write NULLS FIRST or NULLS LAST"#),
        (#"{"table": "t", "order_by": "a sideways"}"#, #"$filter.order_by: "a sideways" is not a valid SQL name: it may contain only letters, digits and '_', and may not start with a digit"#),
        (#"{"table": "t", "group_by": [1]}"#, #"$filter.group_by[0]: expected a string, not a number"#),
        (#"{"table": "t", "limit": -1}"#, #"$filter.limit: expected a non-negative integer, not -1"#),
        (#"{"table": "t", "limit": "10"}"#, #"$filter.limit: expected a non-negative integer, not "10""#),
        (#"{"table": "t", "offset": 1.5}"#, #"$filter.offset: expected a non-negative integer, not 1.5"#),
    ])
    func refusesWithThePlaceAndTheFix(filter: String, expected: String) throws {
        let error = #expect(throws: FilterError.self) { try compile(filter) }
        #expect(error?.description == expected)
    }

    @Test func anUnknownOperatorIsNamedWithTheAcceptedOnes() throws {
        let error = #expect(throws: FilterError.self) { try compile(#"{"table": "t", "where": {"name ==": 1}}"#) }
        #expect(error?.description == #"$filter.where["name =="]: "==" is not an operator; use =, !=, <>, <, <=, >, >=, like, not like, ilike, not ilike, in, not in, is, is not"#)
    }
}
