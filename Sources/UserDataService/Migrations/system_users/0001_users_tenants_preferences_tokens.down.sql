-- Reverts 0001: drops every user-data table. Only for development databases.
DROP SCHEMA user_preferences CASCADE;
DROP SCHEMA user_data CASCADE;
