-- user-data-service, database system_users: users, their tenant assignments, preferences and
-- refresh tokens. Applied by the service at startup (PostgresMigrator) as the database owner;
-- the service itself connects as a member of user_data_app, which gets DML rights only.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'user_data_app') THEN
        RAISE EXCEPTION 'role user_data_app does not exist: create it first (deploy/postgres/init.sql)';
    END IF;
END
$$;

CREATE SCHEMA user_data;
CREATE SCHEMA user_preferences;

CREATE TABLE user_data.users (
    id uuid PRIMARY KEY,
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    username text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$'),
    -- bcrypt; NULL for users of an external identity provider, who cannot log in with a password.
    hashed_password text CHECK (hashed_password IS NULL OR hashed_password ~ '^\$2[abxy]\$'),
    auth_provider text NOT NULL DEFAULT 'local' CHECK (auth_provider ~ '^[a-z][a-z0-9_-]{0,31}$'),
    is_active boolean NOT NULL DEFAULT true,
    is_admin boolean NOT NULL DEFAULT false,
    profile jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(profile) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);
-- Case-insensitive uniqueness without the citext extension (which needs more than ownership).
CREATE UNIQUE INDEX users_email_key ON user_data.users (lower(email));
CREATE UNIQUE INDEX users_username_key ON user_data.users (lower(username));
-- Keyset pagination of GET /users orders by (created_at, id).
CREATE INDEX users_created_id ON user_data.users (created_at, id);

CREATE TABLE user_data.tenant_users (
    tenant_id text NOT NULL CHECK (tenant_id ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    user_id uuid NOT NULL REFERENCES user_data.users (id) ON DELETE CASCADE,
    role text NOT NULL DEFAULT 'member' CHECK (role ~ '^[a-z][a-z0-9_-]{0,31}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_users_user ON user_data.tenant_users (user_id);

-- A request only sees the assignments of the tenant its transaction is scoped to
-- (PostgresConnection.transaction(tenant:) sets app.current_tenant_id with set_config(..., true)).
-- FORCE applies the policy to the owner too; without a tenant set, no row is visible.
ALTER TABLE user_data.tenant_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_data.tenant_users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_data.tenant_users
    USING (tenant_id = current_setting('app.current_tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.current_tenant_id', true));

CREATE TABLE user_preferences.preferences (
    user_id uuid NOT NULL REFERENCES user_data.users (id) ON DELETE CASCADE,
    key text NOT NULL CHECK (key ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- Only a SHA-256 of each refresh token is stored: a database leak does not hand out sessions.
-- A family is one login; rotation links each token to its successor (replaced_by), and presenting
-- a token that was already replaced revokes the whole family (OAuth 2.0 Security BCP, refresh
-- token reuse detection).
CREATE TABLE user_data.refresh_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES user_data.users (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    tenant_id text CHECK (tenant_id ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    replaced_by uuid REFERENCES user_data.refresh_tokens (id) ON DELETE SET NULL
);
CREATE INDEX refresh_tokens_family ON user_data.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON user_data.refresh_tokens (user_id);

GRANT USAGE ON SCHEMA user_data, user_preferences TO user_data_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA user_data TO user_data_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA user_preferences TO user_data_app;
