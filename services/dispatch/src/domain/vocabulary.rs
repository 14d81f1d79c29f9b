//! The dispatch vocabulary: vehicle kinds, mobility needs, driver, booking,
//! assignment and run statuses with their stored names, a booking's
//! transitions, and the load a trip puts on a vehicle.

use std::fmt;

use kit::stored::UnknownValue;

/// Names stored in the database for each enum, and back.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The value stored in `table.column` of row `row_id`: an unknown
            /// one is an error, never a default.
            pub fn stored(table: &'static str, column: &'static str, row_id: i64, s: &str) -> Result<Self, UnknownValue> {
                Self::parse(s).ok_or_else(|| UnknownValue::new(table, column, row_id, s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum!(
    /// What a driver drives.
    VehicleKind { Car = "car", WheelchairVan = "wheelchair_van", Stretcher = "stretcher" }
);

stored_enum!(
    /// What a patient needs on board.
    Mobility { Ambulatory = "ambulatory", Wheelchair = "wheelchair", Stretcher = "stretcher" }
);

stored_enum!(
    /// Whether a driver can be planned.
    DriverStatus { Available = "available", OnDuty = "on_duty", OffDuty = "off_duty", Inactive = "inactive" }
);

stored_enum!(
    /// A booking's life cycle.
    BookingStatus {
        Pending = "pending",
        Assigned = "assigned",
        EnRoute = "en_route",
        PickedUp = "picked_up",
        Completed = "completed",
        Cancelled = "cancelled",
        NoShow = "no_show",
    }
);

stored_enum!(
    /// What a dispatch run re-plans.
    RunMode { Full = "full", PendingOnly = "pending_only" }
);

stored_enum!(
    RunStatus { Running = "running", Completed = "completed", Failed = "failed" }
);

stored_enum!(
    AssignmentStatus { Planned = "planned", Active = "active", Done = "done", Superseded = "superseded" }
);

impl Mobility {
    /// Whether a vehicle of `kind` can carry this patient: anyone walks into a
    /// car or a van; a wheelchair needs a wheelchair van; a stretcher a stretcher vehicle.
    pub fn fits(self, kind: VehicleKind) -> bool {
        match self {
            Mobility::Ambulatory => matches!(kind, VehicleKind::Car | VehicleKind::WheelchairVan),
            Mobility::Wheelchair => kind == VehicleKind::WheelchairVan,
            Mobility::Stretcher => kind == VehicleKind::Stretcher,
        }
    }
}

impl DriverStatus {
    /// Drivers a run may plan.
    pub fn plannable(self) -> bool {
        matches!(self, DriverStatus::Available | DriverStatus::OnDuty)
    }
}

impl BookingStatus {
    /// Whether the booking has not started: a run may (re)plan it.
    pub fn not_started(self) -> bool {
        matches!(self, BookingStatus::Pending | BookingStatus::Assigned)
    }

    pub fn is_final(self) -> bool {
        matches!(self, BookingStatus::Completed | BookingStatus::Cancelled | BookingStatus::NoShow)
    }
}

/// Whether a booking may move from `from` to `to`, or why not. Assignment is a
/// dispatch decision (a run or a reassignment), not a status update; so is
/// going back to pending, which cancelling an assignment does.
pub fn check_transition(from: BookingStatus, to: BookingStatus) -> Result<(), String> {
    use BookingStatus::*;
    let ok = matches!(
        (from, to),
        (Assigned, EnRoute)
            | (EnRoute, PickedUp)
            | (PickedUp, Completed)
            | (Pending | Assigned | EnRoute, Cancelled)
            | (Assigned | EnRoute, NoShow)
    );
    if ok {
        Ok(())
    } else if from.is_final() {
        Err(format!("the booking is {from}; a {from} booking does not change any more"))
    } else if to == Assigned || to == Pending {
        Err(format!("a booking becomes {to} through a dispatch run or a reassignment, not a status update"))
    } else {
        Err(format!("a {from} booking cannot become {to}"))
    }
}

/// Seats, wheelchair places and stretchers: what a trip takes and a vehicle has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Load {
    pub seats: i32,
    pub wheelchairs: i32,
    pub stretchers: i32,
}

impl Load {
    /// What a booking occupies: the patient's place plus a seat per companion.
    pub fn of_trip(mobility: Mobility, passengers: i32) -> Self {
        let companions = passengers - 1;
        match mobility {
            Mobility::Ambulatory => Load { seats: passengers, wheelchairs: 0, stretchers: 0 },
            Mobility::Wheelchair => Load { seats: companions, wheelchairs: 1, stretchers: 0 },
            Mobility::Stretcher => Load { seats: companions, wheelchairs: 0, stretchers: 1 },
        }
    }

    /// What a vehicle carries: its seats and wheelchair places, and one stretcher
    /// if it is a stretcher vehicle.
    pub fn of_vehicle(kind: VehicleKind, seats: i32, wheelchair_places: i32) -> Self {
        Load { seats, wheelchairs: wheelchair_places, stretchers: i32::from(kind == VehicleKind::Stretcher) }
    }

    pub fn fits_in(self, cap: Load) -> bool {
        self.seats <= cap.seats && self.wheelchairs <= cap.wheelchairs && self.stretchers <= cap.stretchers
    }
}

impl std::ops::Add for Load {
    type Output = Load;
    fn add(self, o: Load) -> Load {
        Load { seats: self.seats + o.seats, wheelchairs: self.wheelchairs + o.wheelchairs, stretchers: self.stretchers + o.stretchers }
    }
}

impl std::ops::Sub for Load {
    type Output = Load;
    fn sub(self, o: Load) -> Load {
        Load { seats: self.seats - o.seats, wheelchairs: self.wheelchairs - o.wheelchairs, stretchers: self.stretchers - o.stretchers }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_life_cycle() {
        use BookingStatus::*;
        for (from, to) in [(Assigned, EnRoute), (EnRoute, PickedUp), (PickedUp, Completed), (Pending, Cancelled), (EnRoute, NoShow)] {
            assert!(check_transition(from, to).is_ok(), "{from} -> {to}");
        }
        assert!(check_transition(Pending, EnRoute).unwrap_err().contains("cannot become"));
        assert!(check_transition(Completed, Cancelled).unwrap_err().contains("does not change"));
        assert!(check_transition(Pending, Assigned).unwrap_err().contains("dispatch run"));
        assert!(check_transition(PickedUp, NoShow).is_err(), "a patient on board is not a no-show");
    }

    #[test]
    fn a_stored_value_outside_its_vocabulary_is_an_error_naming_the_row() {
        assert_eq!(Mobility::stored("booking", "mobility", 7, "wheelchair"), Ok(Mobility::Wheelchair));
        let e = Mobility::stored("booking", "mobility", 7, "hovercraft").unwrap_err();
        assert_eq!((e.table, e.column, e.row_id.as_str(), e.value.as_str()), ("booking", "mobility", "7", "hovercraft"));
        assert_eq!(e.to_string(), "booking.mobility of row 7 holds \"hovercraft\", which is not one of its values");
        // Case and spacing are not forgiven: "Ambulatory" is not ambulatory.
        assert!(Mobility::stored("client", "mobility", 1, "Ambulatory").is_err());
        assert!(BookingStatus::stored("booking", "status", 1, "").is_err());
        assert!(VehicleKind::stored("driver", "vehicle_kind", 1, "car ").is_err());
        let long = "x".repeat(500);
        assert_eq!(DriverStatus::stored("driver", "status", 2, &long).unwrap_err().value.len(), 64, "a long value is cut for the log");
    }

    #[test]
    fn loads_and_fits() {
        assert!(Mobility::Wheelchair.fits(VehicleKind::WheelchairVan));
        assert!(!Mobility::Wheelchair.fits(VehicleKind::Car));
        assert!(Mobility::Ambulatory.fits(VehicleKind::WheelchairVan));
        assert!(!Mobility::Ambulatory.fits(VehicleKind::Stretcher));
        let van = Load::of_vehicle(VehicleKind::WheelchairVan, 4, 2);
        let trip = Load::of_trip(Mobility::Wheelchair, 2);
        assert_eq!(trip, Load { seats: 1, wheelchairs: 1, stretchers: 0 });
        assert!((trip + trip).fits_in(van));
        assert!(!(trip + trip + trip).fits_in(van));
        for name in ["car", "wheelchair_van", "stretcher"] {
            assert_eq!(VehicleKind::parse(name).unwrap().as_str(), name);
        }
    }
}
