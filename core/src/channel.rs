//! How a contact reached the desk.
//!
//! JSON shape: `"email"`, `"phone"`, `"chat"`, `"face_to_face"`, `"self_service"`, `"monitoring"`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The channel a ticket or update arrived by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An email to the desk's mailbox.
    Email,
    /// A phone call to the desk.
    Phone,
    /// Instant message or web chat.
    Chat,
    /// In person, at the desk or on a floor walk.
    FaceToFace,
    /// The self-service portal.
    SelfService,
    /// An alert from a monitoring system.
    Monitoring,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 6] = [
        Channel::Email,
        Channel::Phone,
        Channel::Chat,
        Channel::FaceToFace,
        Channel::SelfService,
        Channel::Monitoring,
    ];
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Channel::Email => "email",
            Channel::Phone => "phone",
            Channel::Chat => "chat",
            Channel::FaceToFace => "face to face",
            Channel::SelfService => "self-service portal",
            Channel::Monitoring => "monitoring",
        })
    }
}
