-- 0004_api_owned: tables written only by the ALTRepo API's management application (errata
-- manager, comments, users). The loaders never write them; they are created so that a bootstrap
-- gives the API every table it expects. Column lists reconstructed from the API's reads and
-- writes (schema-newer-tables.md §2.11, §2.14); engines and sort keys are this project's choice.
-- Conventions: sql/README.md.

-- Manual status of a vulnerability (positional tuple(*) in the API fixes the column order:
-- vs_updated is the 8th ordinary column, ts is MATERIALIZED).
CREATE TABLE IF NOT EXISTS VulnerabilityStatus
(
    vuln_id        String,
    vs_author      String,
    vs_status      LowCardinality(String),
    vs_resolution  LowCardinality(String),
    vs_reason      String,
    vs_subscribers Array(String),
    vs_json        String,
    vs_updated     DateTime DEFAULT now(),
    ts             DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
ORDER BY (vuln_id, ts);

-- Comments on errata / vulnerabilities / packages (comment_id: snowflake-like id).
CREATE TABLE IF NOT EXISTS Comments
(
    comment_id          UInt64,
    comment_pid         UInt64,
    comment_rid         UInt64,
    comment_entity_type LowCardinality(String),
    comment_entity_link String,
    comment_author      String,
    comment_text        String,
    comment_references  Nested(type String, link String),
    comment_created     DateTime
)
ENGINE = MergeTree
ORDER BY (comment_entity_type, comment_entity_link, comment_id);

CREATE TABLE IF NOT EXISTS CommentsChangeHistory
(
    cc_user    String,
    cc_user_ip String,
    cc_reason  String,
    cc_action  Enum8('create' = 0, 'update' = 1, 'discard' = 2, 'hide' = 3, 'show' = 4),
    comment_id UInt64,
    ts         DateTime64(3) DEFAULT now64()
)
ENGINE = MergeTree
ORDER BY (comment_id, ts);

-- Canned reasons offered by the errata manager UI.
CREATE TABLE IF NOT EXISTS DefaultReasons
(
    dr_text       String,
    dr_source     LowCardinality(String),
    dr_action     LowCardinality(String),
    dr_is_active  UInt8,
    dr_is_deleted UInt8,
    ts            DateTime64(3) DEFAULT now64()
)
ENGINE = MergeTree
ORDER BY (dr_source, dr_action, dr_text, ts);

-- Change records of PackagesNameConversion rows (same pattern as ErrataChangeHistory).
CREATE TABLE IF NOT EXISTS PncChangeHistory
(
    transaction_id UUID,
    pncc_user      String,
    pncc_user_ip   String,
    pncc_reason    String,
    pncc_type      Enum8('create' = 0, 'update' = 1, 'discard' = 2, 'hide' = 3, 'show' = 4),
    pncc_source    Enum8('auto' = 0, 'manual' = 1),
    pncc_origin    Enum8('parent' = 0, 'child' = 1),
    pkg_name       String,
    pnc_state      LowCardinality(String),
    pnc_result     String,
    pnc_type       LowCardinality(String),
    pnc_source     LowCardinality(String),
    ts             DateTime64(3) DEFAULT now64()
)
ENGINE = MergeTree
ORDER BY (pkg_name, pnc_result, ts);

-- Errata manager users: inserted as (*) VALUES (user, display_name, group, roles).
CREATE TABLE IF NOT EXISTS ErrataUsers
(
    user         String,
    display_name String,
    `group`      LowCardinality(String),
    roles        Array(String),
    ts           DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
ORDER BY (user, ts);

-- Other names under which a user appears (e.g. girar nick vs. LDAP login); latest list wins.
CREATE TABLE IF NOT EXISTS ErrataUsersAliases
(
    user    String,
    aliases Array(String),
    ts      DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
ORDER BY (user, ts);

-- Subscriptions of users to entities; latest state per (user, entity) = argMax(state, date).
CREATE TABLE IF NOT EXISTS ErrataUsersSubscriptions
(
    user        String,
    entity_type LowCardinality(String),
    entity_link String,
    state       LowCardinality(String),
    assigner    String,
    date        DateTime
)
ENGINE = MergeTree
ORDER BY (user, entity_type, entity_link, date);

-- The user a name belongs to: the user whose latest alias list contains the name, or the name
-- itself. The functions are server-wide (not per database); the tables they read are resolved
-- in the database of the calling query.
CREATE OR REPLACE FUNCTION get_errata_user_original_name AS (name) ->
    if(
        (SELECT count() FROM (SELECT argMax(aliases, ts) AS a FROM ErrataUsersAliases GROUP BY user) WHERE has(a, name)) = 0,
        name,
        (SELECT any(u) FROM (SELECT user AS u, argMax(aliases, ts) AS a FROM ErrataUsersAliases GROUP BY user) WHERE has(a, name))
    );

-- Every name of the user a name belongs to: the original name first, then its aliases.
CREATE OR REPLACE FUNCTION get_errata_user_aliases AS (name) ->
    arrayDistinct(arrayConcat(
        [get_errata_user_original_name(name)],
        (SELECT argMax(aliases, ts) FROM ErrataUsersAliases WHERE user = get_errata_user_original_name(name))
    ));
