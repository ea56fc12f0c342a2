//! vision_node as a managed node: the lifecycle interface rclrs lacks (`~/change_state`,
//! `~/get_state`, `~/get_available_states`, `~/get_available_transitions`,
//! `~/get_transition_graph` and `~/transition_event`), so that `ros2 lifecycle`,
//! launch_ros's LifecycleNode and lifecycle managers drive it; and `~/enable`
//! (std_srvs/SetBool), managed or not. Written here because rclrs 0.8 has no lifecycle
//! node and no binding of rcl_lifecycle; the state machine is rcl_lifecycle's
//! ([`machine`]). The state lives in one owner, the payload of an rclrs `Worker`.

pub mod machine;

use std::time::SystemTime;

use rclrs::{log_error, log_info, log_warn, Node, Publisher, RclrsError, Worker, WorkerService};
use ros_env::lifecycle_msgs::msg::{State, Transition, TransitionDescription, TransitionEvent};
use ros_env::lifecycle_msgs::srv::{
    ChangeState, ChangeState_Request, ChangeState_Response, GetAvailableStates,
    GetAvailableStates_Response, GetAvailableTransitions, GetAvailableTransitions_Response,
    GetState, GetState_Response,
};
use ros_env::std_srvs::srv::{SetBool, SetBool_Request, SetBool_Response};

use crate::node::VisionNode;
use machine::{find, Primary, Step, TRANSITIONS};

/// The node, its lifecycle state, and where transitions are announced.
pub struct Lifecycle {
    state: Primary,
    vision: VisionNode,
    /// `~/transition_event`, for a managed node.
    events: Option<Publisher<TransitionEvent>>,
}

/// The services; they are served while this lives.
pub struct Services {
    _enable: WorkerService<SetBool, Lifecycle>,
    _lifecycle: Option<LifecycleServices>,
}

struct LifecycleServices {
    _change_state: WorkerService<ChangeState, Lifecycle>,
    _get_state: WorkerService<GetState, Lifecycle>,
    _get_available_states: WorkerService<GetAvailableStates, Lifecycle>,
    _get_available_transitions: WorkerService<GetAvailableTransitions, Lifecycle>,
    _get_transition_graph: WorkerService<GetAvailableTransitions, Lifecycle>,
}

/// Serves `vision` on `node`: `~/enable`, and the lifecycle interface when it is a
/// managed node (it then starts unconfigured; otherwise it must be active already).
pub fn serve(
    node: &Node,
    vision: VisionNode,
    managed: bool,
) -> Result<(Worker<Lifecycle>, Services), RclrsError> {
    let (state, events) = if managed {
        (
            Primary::Unconfigured,
            Some(node.create_publisher("~/transition_event")?),
        )
    } else {
        (Primary::Active, None)
    };
    let worker = node.create_worker(Lifecycle {
        state,
        vision,
        events,
    });
    let enable = worker.create_service::<SetBool, _>(
        "~/enable",
        |lifecycle: &mut Lifecycle, request: SetBool_Request| lifecycle.enable(request.data),
    )?;
    let lifecycle = managed.then(|| lifecycle_services(&worker)).transpose()?;
    if managed {
        log_info!(
            node.logger(),
            "managed node: unconfigured, waiting for ~/change_state (ros2 lifecycle set {} configure)",
            node.fully_qualified_name()
        );
    }
    Ok((
        worker,
        Services {
            _enable: enable,
            _lifecycle: lifecycle,
        },
    ))
}

fn lifecycle_services(worker: &Worker<Lifecycle>) -> Result<LifecycleServices, RclrsError> {
    let transitions = |all: bool| {
        move |lifecycle: &mut Lifecycle| GetAvailableTransitions_Response {
            available_transitions: lifecycle.transitions(all),
        }
    };
    Ok(LifecycleServices {
        _change_state: worker.create_service::<ChangeState, _>(
            "~/change_state",
            |lifecycle: &mut Lifecycle, request: ChangeState_Request| lifecycle.change(request),
        )?,
        _get_state: worker.create_service::<GetState, _>(
            "~/get_state",
            |lifecycle: &mut Lifecycle, _| GetState_Response {
                current_state: state(lifecycle.state.state()),
            },
        )?,
        _get_available_states: worker.create_service::<GetAvailableStates, _>(
            "~/get_available_states",
            |_: &mut Lifecycle, _| GetAvailableStates_Response {
                available_states: every_state(),
            },
        )?,
        _get_available_transitions: worker.create_service::<GetAvailableTransitions, _>(
            "~/get_available_transitions",
            wrap(transitions(false)),
        )?,
        _get_transition_graph: worker.create_service::<GetAvailableTransitions, _>(
            "~/get_transition_graph",
            wrap(transitions(true)),
        )?,
    })
}

/// A request-ignoring service callback, from one of the payload alone.
fn wrap<Req, Res>(
    f: impl Fn(&mut Lifecycle) -> Res + Send + 'static,
) -> impl FnMut(&mut Lifecycle, Req) -> Res + Send + 'static {
    move |lifecycle, _| f(lifecycle)
}

fn state((id, label): (u8, &str)) -> State {
    State {
        id,
        label: label.into(),
    }
}

/// Every state of the machine, primary and transition states, as rcl_lifecycle lists them.
fn every_state() -> Vec<State> {
    let primary = Primary::ALL.iter().map(|p| p.state());
    let mut states: Vec<(u8, &str)> = primary.chain(TRANSITIONS.iter().map(|t| t.via)).collect();
    states.push((15, "errorprocessing"));
    states.sort();
    states.dedup();
    states.into_iter().map(state).collect()
}

fn transition(id: u8, label: &str) -> Transition {
    Transition {
        id,
        label: label.into(),
    }
}

impl Lifecycle {
    /// The transitions available now (or, with `all`, in every state), each from its
    /// start state to the transition state it passes through, as rcl_lifecycle lists them.
    fn transitions(&self, all: bool) -> Vec<TransitionDescription> {
        TRANSITIONS
            .iter()
            .filter(|t| all || t.from == self.state)
            .map(|t| TransitionDescription {
                transition: transition(t.id, t.label),
                start_state: state(t.from.state()),
                goal_state: state(t.via),
            })
            .collect()
    }

    /// Runs the transition `request` names, announcing each step on `~/transition_event`.
    fn change(&mut self, request: ChangeState_Request) -> ChangeState_Response {
        let logger = self.vision.logger();
        let asked = &request.transition;
        let Some(t) = find(self.state, asked.id, &asked.label) else {
            log_warn!(
                &logger,
                "lifecycle: transition {} (id {}) is not available in state {}",
                if asked.label.is_empty() {
                    "?"
                } else {
                    &asked.label
                },
                asked.id,
                self.state.state().1
            );
            return ChangeState_Response { success: false };
        };
        self.announce(transition(t.id, t.label), self.state.state(), t.via);
        let done = match t.step {
            Step::Configure => self.vision.configure(),
            Step::Activate => self.vision.activate(),
            Step::Deactivate => {
                self.vision.deactivate();
                Ok(())
            }
            Step::Cleanup | Step::Shutdown => {
                self.vision.cleanup();
                Ok(())
            }
        };
        let success = done.is_ok();
        let (end, label, state) = match done {
            Ok(()) => (t.success, "transition_success", t.to),
            Err(e) => {
                log_error!(&logger, "lifecycle: {} failed: {e:#}", t.label);
                (t.success + 1, "transition_failure", t.from)
            }
        };
        self.announce(transition(end, label), t.via, state.state());
        log_info!(
            &logger,
            "lifecycle: {}: {} -> {}",
            t.label,
            t.from.state().1,
            state.state().1
        );
        self.state = state;
        ChangeState_Response { success }
    }

    fn announce(&self, transition: Transition, from: (u8, &str), to: (u8, &str)) {
        let Some(events) = &self.events else { return };
        let timestamp = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let event = TransitionEvent {
            timestamp,
            transition,
            start_state: state(from),
            goal_state: state(to),
        };
        if let Err(e) = events.publish(event) {
            let logger = self.vision.logger();
            log_warn!(&logger, "publishing the transition event: {e}");
        }
    }

    /// `~/enable`: pauses (false) or resumes (true) detection.
    fn enable(&mut self, enabled: bool) -> SetBool_Response {
        SetBool_Response {
            success: true,
            message: self.vision.set_paused(!enabled),
        }
    }

    /// At exit: lets the frames in flight through and says what became of every frame.
    pub fn finish(&mut self) {
        self.vision.cleanup();
    }
}
