//! The state machine of ROS 2 managed nodes, as rcl_lifecycle defines it: four primary
//! states, the transitions between them with their ids and labels, and the transition
//! states they pass through. Pure data, so that the table is tested without ROS.

/// A primary state of a managed node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primary {
    Unconfigured,
    Inactive,
    Active,
    Finalized,
}

impl Primary {
    /// Every primary state, in id order.
    pub const ALL: [Primary; 4] = [
        Primary::Unconfigured,
        Primary::Inactive,
        Primary::Active,
        Primary::Finalized,
    ];

    /// lifecycle_msgs/State id and label.
    pub fn state(self) -> (u8, &'static str) {
        match self {
            Primary::Unconfigured => (1, "unconfigured"),
            Primary::Inactive => (2, "inactive"),
            Primary::Active => (3, "active"),
            Primary::Finalized => (4, "finalized"),
        }
    }
}

/// The work a transition does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Configure,
    Cleanup,
    Activate,
    Deactivate,
    Shutdown,
}

/// A transition a client can ask for (lifecycle_msgs/Transition ids 1..7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub id: u8,
    pub label: &'static str,
    pub step: Step,
    pub from: Primary,
    pub to: Primary,
    /// The transition state passed through: lifecycle_msgs/State id and label.
    pub via: (u8, &'static str),
    /// Id of the transition that ends it successfully (`on_<step>_success`); the failure
    /// one is the next id.
    pub success: u8,
}

const fn transition(
    id: u8,
    label: &'static str,
    step: Step,
    from: Primary,
    to: Primary,
    via: (u8, &'static str),
    success: u8,
) -> Transition {
    Transition {
        id,
        label,
        step,
        from,
        to,
        via,
        success,
    }
}

const CONFIGURING: (u8, &str) = (10, "configuring");
const CLEANING_UP: (u8, &str) = (11, "cleaningup");
const SHUTTING_DOWN: (u8, &str) = (12, "shuttingdown");
const ACTIVATING: (u8, &str) = (13, "activating");
const DEACTIVATING: (u8, &str) = (14, "deactivating");

/// Every transition a client can ask for, as rcl_lifecycle's default state machine has
/// them.
pub const TRANSITIONS: [Transition; 7] = {
    use Primary::*;
    use Step::*;
    [
        transition(
            1,
            "configure",
            Configure,
            Unconfigured,
            Inactive,
            CONFIGURING,
            10,
        ),
        transition(
            2,
            "cleanup",
            Cleanup,
            Inactive,
            Unconfigured,
            CLEANING_UP,
            20,
        ),
        transition(3, "activate", Activate, Inactive, Active, ACTIVATING, 30),
        transition(
            4,
            "deactivate",
            Deactivate,
            Active,
            Inactive,
            DEACTIVATING,
            40,
        ),
        transition(
            5,
            "shutdown",
            Shutdown,
            Unconfigured,
            Finalized,
            SHUTTING_DOWN,
            50,
        ),
        transition(
            6,
            "shutdown",
            Shutdown,
            Inactive,
            Finalized,
            SHUTTING_DOWN,
            50,
        ),
        transition(
            7,
            "shutdown",
            Shutdown,
            Active,
            Finalized,
            SHUTTING_DOWN,
            50,
        ),
    ]
};

/// The transitions available in `state`.
pub fn available(state: Primary) -> impl Iterator<Item = &'static Transition> {
    TRANSITIONS.iter().filter(move |t| t.from == state)
}

/// The transition a request names in `state`: by label when it has one (as rclcpp
/// does), else by id; `None` when it is not available there.
pub fn find(state: Primary, id: u8, label: &str) -> Option<&'static Transition> {
    available(state).find(|t| {
        if label.is_empty() {
            t.id == id
        } else {
            t.label == label
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_primary_state_offers_rcl_lifecycles_transitions() {
        let labels = |s| available(s).map(|t| (t.id, t.label)).collect::<Vec<_>>();
        assert_eq!(
            labels(Primary::Unconfigured),
            [(1, "configure"), (5, "shutdown")]
        );
        assert_eq!(
            labels(Primary::Inactive),
            [(2, "cleanup"), (3, "activate"), (6, "shutdown")]
        );
        assert_eq!(
            labels(Primary::Active),
            [(4, "deactivate"), (7, "shutdown")]
        );
        assert!(labels(Primary::Finalized).is_empty());
    }

    #[test]
    fn requests_name_a_transition_by_label_or_id() {
        let shutdown = find(Primary::Active, 0, "shutdown").unwrap();
        assert_eq!((shutdown.id, shutdown.to), (7, Primary::Finalized));
        assert_eq!(find(Primary::Inactive, 3, "").unwrap().step, Step::Activate);
        assert!(find(Primary::Unconfigured, 3, "").is_none());
        assert!(find(Primary::Active, 0, "configure").is_none());
        // Every transition ends where the next one can start.
        for t in TRANSITIONS {
            assert!(t.from != t.to && t.success % 10 == 0, "{t:?}");
        }
    }
}
