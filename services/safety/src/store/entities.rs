//! The safety service's tables as sea-orm entities.

pub mod safety_limit {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "safety_limit")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        pub max_per_hour: Option<i32>,
        pub max_per_day: Option<i32>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod autonomous_action {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "autonomous_action")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub company_id: i64,
        pub booking_id: Option<i64>,
        pub driver_id: Option<i64>,
        pub action_type: String,
        pub action_description: String,
        pub action_data: Option<String>,
        pub success: bool,
        pub error_message: Option<String>,
        pub execution_time_ms: Option<f64>,
        pub confidence_score: Option<f64>,
        pub expected_improvement_minutes: Option<f64>,
        pub trigger_source: Option<String>,
        pub reviewed_by_admin: bool,
        pub reviewed_at: Option<ChronoDateTimeUtc>,
        pub admin_notes: Option<String>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        pub status: String,
        pub reviewed_by: Option<String>,
        pub consumed_windows: String,
        pub chain_seq: i64,
        pub prev_hash: String,
        pub row_hash: String,
        pub completion_seq: Option<i64>,
        pub completion_hash: Option<String>,
        /// 1 for rows written before m0006, 2 since (`domain::chain::HASH_V2`).
        pub hash_version: i16,
        /// The caller whose token authorised it (`service:dispatch`); None on version 1 rows.
        pub authorized_by: Option<String>,
        pub review_seq: Option<i64>,
        pub review_hash: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod safety_block {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "safety_block")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub company_id: i64,
        pub action_type: String,
        pub scope: String,
        pub window: String,
        pub limit_value: i32,
        pub used: i32,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod human_audit_record {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "human_audit_record")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub company_id: i64,
        pub record_id: String,
        pub chain_seq: i64,
        pub prev_hash: String,
        pub row_hash: String,
        pub occurred_at: ChronoDateTimeUtc,
        pub recorded_at: ChronoDateTimeUtc,
        pub source: String,
        pub actor_user_id: String,
        pub actor_email: String,
        pub actor_role: String,
        pub client_address: Option<String>,
        pub resource: String,
        pub resource_id: String,
        pub action: String,
        pub changes: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_chain_head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_chain_head")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: i64,
        pub seq: i64,
        pub head_hash: String,
        pub updated_at: ChronoDateTimeUtc,
        pub limits_version: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod audit_checkpoint {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_checkpoint")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub company_id: i64,
        pub seq: i64,
        pub head_hash: String,
        pub signed_at: ChronoDateTimeUtc,
        pub public_key: String,
        pub signature: String,
        pub version: i16,
        pub checkpoint_seq: i64,
        pub prev_signature: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Life-cycle values of `autonomous_action.status`.
pub mod status {
    pub const AUTHORIZED: &str = "authorized";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
}
