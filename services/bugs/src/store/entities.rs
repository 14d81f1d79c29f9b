//! The bug-tracking tables as sea-orm entities: the reports, their comments,
//! the two aggregates kept on write (`bug_counts`, `bug_metrics`), and each
//! bug's history (`bug_daily_occurrences`, `bug_events`).

pub mod bug_reports {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bug_reports")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub company_id: i64,
        pub title: String,
        pub description: String,
        pub severity: i16,
        pub priority: i16,
        pub category: String,
        pub status: String,
        pub reporter: String,
        pub assignee: Option<String>,
        pub environment: String,
        pub release_version: String,
        pub stack_trace: String,
        pub tags: String,
        pub fingerprint: String,
        pub occurrence_count: i64,
        pub regression_count: i32,
        pub first_seen: ChronoDateTimeUtc,
        pub last_seen: ChronoDateTimeUtc,
        pub resolved_at: Option<ChronoDateTimeUtc>,
        pub duplicate_of: Option<i64>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::bug_comments::Entity")]
        Comments,
    }

    impl Related<super::bug_comments::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Comments.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bug_comments {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bug_comments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub bug_id: i64,
        pub company_id: i64,
        pub author_id: String,
        pub author: String,
        pub body: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(belongs_to = "super::bug_reports::Entity", from = "Column::BugId", to = "super::bug_reports::Column::Id")]
        Bug,
    }

    impl Related<super::bug_reports::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Bug.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bug_metrics {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bug_metrics")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub shard: i16,
        pub opened: i64,
        pub resolved: i64,
        pub reopened: i64,
        pub occurrences: i64,
        pub opened_low: i64,
        pub opened_medium: i64,
        pub opened_high: i64,
        pub opened_critical: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bug_counts {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bug_counts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub company_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub shard: i16,
        pub value: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bug_daily_occurrences {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bug_daily_occurrences")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub bug_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub day: String,
        pub company_id: i64,
        pub count: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod bug_events {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "bug_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub company_id: i64,
        pub bug_id: i64,
        pub kind: String,
        pub from_value: String,
        pub to_value: String,
        pub actor: String,
        pub environment: String,
        pub release_version: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
