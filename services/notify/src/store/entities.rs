//! The notification service's tables as sea-orm entities. Their models are
//! what the store hands up; their vocabularies (statuses, kinds, states) are
//! the domain's.

pub mod notify_channel {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "notify_channel")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: i64,
        pub name: String,
        pub kind: String,
        pub url: Option<String>,
        pub recipients: String,
        pub secret: Option<String>,
        pub enabled: bool,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notify_route {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "notify_route")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: i64,
        pub event_type: String,
        pub min_severity: i16,
        pub channel_id: String,
        pub created_at: ChronoDateTimeUtc,
        /// A disabled route is kept but routes nothing.
        pub enabled: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notification {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "notification")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: i64,
        pub channel_id: String,
        pub event_type: String,
        pub title: String,
        pub body: String,
        pub severity: i16,
        pub fields: String,
        pub idempotency_key: String,
        pub status: String,
        pub attempts: i32,
        pub next_attempt_at: ChronoDateTimeUtc,
        pub lease_until: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
        pub delivered_at: Option<ChronoDateTimeUtc>,
        pub last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notification_attempt {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "notification_attempt")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub notification_id: String,
        pub number: i32,
        pub started_at: ChronoDateTimeUtc,
        pub duration_ms: f64,
        pub success: bool,
        pub response_code: Option<i32>,
        pub error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod monitor {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "monitor")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: i64,
        pub name: String,
        pub kind: String,
        pub target: String,
        pub expected_status: i32,
        pub keyword: String,
        pub grpc_service: String,
        pub interval_secs: i32,
        pub timeout_secs: i32,
        pub retries: i32,
        pub recovery_checks: i32,
        pub parent_id: Option<String>,
        /// Registered by the system for one of the mesh's own components
        /// (`register_mesh_monitors`): checked past the egress policy. No API sets it.
        pub internal: bool,
        pub paused: bool,
        pub state: String,
        pub state_since: ChronoDateTimeUtc,
        pub fail_streak: i32,
        pub ok_streak: i32,
        pub down_since: Option<ChronoDateTimeUtc>,
        pub alerted_down: bool,
        pub held_down: bool,
        pub next_check_at: ChronoDateTimeUtc,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod heartbeat {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "heartbeat")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub monitor_id: String,
        pub checked_at: ChronoDateTimeUtc,
        pub up: bool,
        pub latency_ms: f64,
        pub message: String,
        pub state: String,
        pub in_maintenance: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod maintenance_window {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
    #[sea_orm(table_name = "maintenance_window")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub company_id: i64,
        pub monitor_ids: String,
        pub starts_at: ChronoDateTimeUtc,
        pub ends_at: ChronoDateTimeUtc,
        pub reason: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
