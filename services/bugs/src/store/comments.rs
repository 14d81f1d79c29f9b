//! Comments on a bug: added (which is activity on the bug, recorded in its
//! history), paged oldest
//! first, deleted by their author or an admin. GetBug's first comments come
//! with the bug in one query (`with_comments.rs`).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, DatabaseConnection, EntityTrait as _, IntoActiveModel as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _, Set, TransactionTrait as _,
};

use super::{
    entities::bug_comments,
    history::record,
    reports::{find_bug, locked_bug},
    rows,
};
use crate::{
    domain::{Actor, Comment, EventKind, NewEvent, Page},
    error::Error,
};

pub struct Comments {
    db: DatabaseConnection,
}

impl Comments {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub async fn add(&self, actor: &Actor, bug_id: i64, body: String, now: DateTime<Utc>) -> Result<Comment, Error> {
        let txn = self.db.begin().await?;
        kit::db::lock_for_write(&txn, "bug_reports").await?;
        // The bug is locked so that a comment never lands on a bug being deleted,
        // and its update time moves: a comment is activity.
        let bug = locked_bug(&txn, actor.company_id, bug_id).await?.ok_or_else(|| Error::NotFound(format!("bug {bug_id}")))?;
        let comment = bug_comments::ActiveModel {
            bug_id: Set(bug_id),
            company_id: Set(actor.company_id),
            author_id: Set(actor.id.clone()),
            author: Set(actor.name.clone()),
            body: Set(body),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut row = bug.into_active_model();
        row.updated_at = Set(now);
        row.update(&txn).await?;
        record(&txn, actor.company_id, bug_id, &actor.name, vec![NewEvent::change(EventKind::Commented, "", "")], now).await?;
        txn.commit().await?;
        Ok(rows::comment(comment))
    }

    /// One page of a bug's comments, oldest first, and how many it has.
    pub async fn page(&self, company_id: i64, bug_id: i64, (page, per_page): Page) -> Result<(Vec<Comment>, u64), Error> {
        find_bug(&self.db, company_id, bug_id).await?;
        let select = bug_comments::Entity::find().filter(bug_comments::Column::BugId.eq(bug_id));
        let total = select.clone().count(&self.db).await?;
        let found = select
            .order_by_asc(bug_comments::Column::CreatedAt)
            .order_by_asc(bug_comments::Column::Id)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .all(&self.db)
            .await?;
        Ok((found.into_iter().map(rows::comment).collect(), total))
    }

    /// Deletes a comment; only its author or an admin may.
    pub async fn delete(&self, actor: &Actor, bug_id: i64, comment_id: i64) -> Result<(), Error> {
        let comment = bug_comments::Entity::find_by_id(comment_id)
            .filter(bug_comments::Column::BugId.eq(bug_id))
            .filter(bug_comments::Column::CompanyId.eq(actor.company_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::NotFound(format!("comment {comment_id} on bug {bug_id}")))?;
        if comment.author_id != actor.id && !actor.is_admin {
            return Err(Error::PermissionDenied(format!(
                "only the author ({}) or an admin may delete comment {comment_id}",
                comment.author
            )));
        }
        bug_comments::Entity::delete_by_id(comment_id).exec(&self.db).await?;
        Ok(())
    }
}
