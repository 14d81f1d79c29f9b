# The console in English. Every id here is in fr.ftl too (a test checks it).

## Layout
skip-to-content = Skip to the content
nav-label = Main
nav-board = Board
nav-map = Map
nav-bookings = Bookings
nav-clients = Patients
nav-drivers = Drivers
nav-templates = Recurring trips
nav-autonomy = Suggestions
nav-admin = Administration
nav-actions = Autonomous actions
nav-limits = Safety limits
nav-users = Users
nav-company = Company
nav-audit-log = Audit log
nav-status = Status
nav-notifications = Notifications
nav-drift = Drift checks
nav-bugs = Bugs
logout = Sign out
language-fr = Français
language-en = English

## Sign-in
login-title = Sign in
login-email = Email
login-password = Password
login-submit = Sign in
login-refused = Wrong email or password.
login-expired = The sign-in form had expired; please try again.
login-no-console = Your account has no console page yet.

## Errors, by the API's error code
error-title = Something went wrong
error-back = Back to the start page
error-unknown = The request failed.
error-invalid-field = Check “{ $field }”: the value is not accepted.
error-invalid_argument = Some of what was entered is not accepted.
error-failed_precondition = This cannot be done in the trip's or record's current state.
error-out_of_range = A value is out of range.
error-unauthenticated = Your session has ended; please sign in again.
error-permission_denied = You are not allowed to do this.
error-csrf = This page is out of date (its security token is missing); reload it and try again.
error-not_found = Not found: it may have been deleted.
error-already_exists = This already exists.
error-aborted = Someone changed this at the same time; reload and try again.
error-resource_exhausted = Too many requests; wait a moment and try again.
error-unavailable = The { $service } service is not available right now; try again shortly.
error-deadline_exceeded = The service took too long to answer; try again.
error-unimplemented = This is not available.
error-internal = Something went wrong on our side. Reference: { $ref }
error-payload_too_large = The file or form is too large.

## Field labels
field-day = Day
field-mode = Planning mode
field-lang = Language
field-status = Status
field-reason = Reason
field-driver_id = Driver
field-booking_id = Booking
field-client_id = Patient
field-pickup_earliest = Pickup from
field-pickup_latest = Pickup until
field-appointment_time = Appointment
field-pickup_address = Pickup address
field-dropoff_address = Drop-off address
field-pickup = Pickup place
field-dropoff = Drop-off place
field-passengers = Passengers
field-mobility = Mobility
field-boarding_minutes = Boarding minutes
field-notes = Notes
field-name = Name
field-phone = Phone
field-address = Address
field-service_day = Service day

## Dates
weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
weekday-7 = Sunday
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## Vocabularies
status-unspecified = Unknown
status-pending = Pending
status-assigned = Assigned
status-en_route = En route
status-picked_up = Picked up
status-completed = Completed
status-cancelled = Cancelled
status-no_show = No-show
mobility-unspecified = Unknown
mobility-ambulatory = Walking
mobility-wheelchair = Wheelchair
mobility-stretcher = Stretcher
vehicle-unspecified = Vehicle
vehicle-car = Car
vehicle-wheelchair_van = Wheelchair van
vehicle-stretcher = Stretcher vehicle
reason-no_vehicle_of_kind = No vehicle of the kind needed
reason-capacity = Too many seats or places needed
reason-time_window = The pickup window cannot be met
reason-ride_time = The ride would be too long
reason-shift = No shift covers it
reason-fleet_full = Every fitting driver is full
reason-not_planned = Not planned yet
routing-osrm = road network (OSRM)
routing-haversine = distance model

## Board
board-title = Board
board-day = Day
board-show = Show
board-prev-day = Previous day
board-next-day = Next day
board-plan-full = Plan the day
board-plan-pending = Plan pending only
board-planning = Planning…
board-run-done = Planned
board-run-failed = The planning run failed; nothing was changed.
board-run-assigned = bookings assigned
board-run-drivers = drivers
board-run-solver = solver
board-assigned = Assigned
board-drivers-used = drivers used
board-unassigned = Unassigned
board-unassigned-count = { $count ->
    [one] { $count } unassigned booking
   *[other] { $count } unassigned bookings
}
board-none-unassigned = Every booking has a driver.
board-will-call = will call
board-timeline-label = Drivers' days, one row per driver
board-legend = Legend
board-return-trip = Return trip
board-shift = Shift
board-panel-hint = Select a trip, or drag it onto another driver.

## Trip panel
trip-title = Trip
trip-patient = Patient
trip-window = Pickup
trip-appointment = appointment
trip-from = From
trip-to = To
trip-mobility = Mobility
trip-status = Status
trip-notes = Notes
trip-driver = Driver
trip-reassign = Reassign
trip-violations = This driver's day cannot take the trip as it is:
trip-force-reason = Reason for forcing it (kept)
trip-force = Force the reassignment
trip-change-status = Change the status
trip-status-reason = Reason (for a no-show or cancellation)

## Forms
form-save = Save
form-choose = Choose…
form-has-errors = Some fields need attention; nothing was saved.
form-choose-patient = Choose the patient.
form-bad-date = Enter a date (YYYY-MM-DD).
form-bad-time = Enter a time as HH:MM (24-hour).
form-bad-choice = Choose one of the listed values.
form-bad-number = Enter a number.
field-latitude = Latitude
field-longitude = Longitude
field-vehicle_kind = Vehicle
field-seats = Seats
field-wheelchair_places = Wheelchair places
field-shift_start_minute = Shift start
field-shift_end_minute = Shift end
field-location = Home location
field-depot = Depot
filter-any = Any
filter-apply = Filter
list-actions = Actions
list-edit = Edit
list-pages = Pages
list-prev = Previous
list-next = Next
list-page = Page
nav-manifest = Manifests

## Bookings
bookings-title = Bookings
bookings-new = New booking
bookings-none = No booking matches.
bookings-count = { $count ->
    [0] No booking
    [one] One booking
   *[other] { $count } bookings
}
booking-new-title = New booking
booking-edit-title = Edit booking
booking-who-when = Patient and time
booking-pickup = Pickup
booking-pickup-hint = Leave the address and coordinates empty to pick the patient up at home.
booking-dropoff = Drop-off
booking-on-board = On board
booking-patients-mobility = The patient's
import-title = Import bookings from a CSV file
import-hint = One booking per line, with a header line naming the columns below (any order; those not marked as required may be left out). Times are HH:MM in the company's time zone. If any line is wrong, nothing is imported.
import-file = CSV file
import-submit = Import
import-done = { $count ->
    [one] One booking imported.
   *[other] { $count } bookings imported.
}
import-refused = Nothing was imported. Correct these lines and import the file again:
import-more = … and { $count } more.
import-line = Line
import-not-csv = The file is not CSV text.
import-unknown-column = unknown column
import-missing-column = required column missing
import-bad-line = the line cannot be read (check its number of columns and its quotes)
import-too-many = The file has more than { $max } bookings; split it.
import-empty = The file holds no booking.

## People
clients-title = Patients
clients-new = New patient
clients-count = { $count ->
    [0] No patient
    [one] One patient
   *[other] { $count } patients
}
clients-detail = Address
clients-tag = Mobility
client-new-title = New patient
client-edit-title = Edit patient
drivers-title = Drivers
drivers-new = New driver
drivers-count = { $count ->
    [0] No driver
    [one] One driver
   *[other] { $count } drivers
}
drivers-detail = Vehicle and shift
drivers-tag = Status
driver-new-title = New driver
driver-edit-title = Edit driver
driver-status-unspecified = Unknown
driver-status-available = Available
driver-status-on_duty = On duty
driver-status-off_duty = Off duty
driver-status-inactive = Inactive
people-search = Search by name
people-none = Nobody matches.
people-deactivate = Deactivate
people-deactivate-confirm = Deactivate

## Manifests
manifest-title = Manifests
manifest-none = No driver has a trip on this day.
manifest-no-stops = No stop on this day.
manifest-vehicle = Vehicle
manifest-shift = Shift
manifest-first = First stop
manifest-trips = Trips
manifest-print = Print
manifest-csv = Download as CSV
manifest-time = Time
manifest-stop = Stop
manifest-address = Address

## Map
map-title = Map
map-label = The day's stops and the drivers' last positions
map-pickup = Pickup
map-dropoff = Drop-off
map-driver = Driver's last position
map-seen = seen at
map-cars = { $count ->
    [0] No driver located
    [one] One driver located
   *[other] { $count } drivers located
}
map-waiting = { $count ->
    [0] no booking waiting for a driver
    [one] one booking waiting for a driver
   *[other] { $count } bookings waiting for a driver
}

## Recurring trips
templates-title = Recurring trips
templates-new = New recurring trip
templates-none = No recurring trip yet.
templates-days = Days
templates-return = Return
templates-valid = Valid
templates-delete = Delete
templates-delete-confirm = Delete this recurring trip? Bookings already generated stay.
templates-generate = Generate the day
templates-generate-hint = Creates the day's bookings from every recurring trip that falls on it; those already created are left as they are.
templates-choose-weekday = Tick at least one day.
templates-generated = { $day }: { $count ->
    [0] no new booking
    [one] one booking created
   *[other] { $count } bookings created
}, { $present } already there.
field-return_earliest = Return from
field-return_latest = Return until
field-valid_from = Valid from
field-valid_until = Valid until
field-weekdays = Days

## Reassignment, in the checker's rules
trip-forced = Forced past the checker
trip-force-reason-needed = Say why you force it (at least 3 characters); the reason is kept with the trip.
trip-does-not-fit = This driver's day cannot take the trip; nothing was moved.
violation-unreachable = the driver cannot reach a stop in time
violation-wrong_vehicle = the patient's mobility does not fit this vehicle
violation-outside_window = a pickup falls outside its window
violation-over_capacity = not enough seats or wheelchair places
violation-ride_too_long = a patient would ride longer than allowed
violation-after_appointment = a drop-off would be after the appointment
violation-after_shift = the driver would be back after the shift ends
violation-picked_up_twice = a patient would be picked up twice
violation-not_picked_up = a drop-off comes before its pickup
violation-never_dropped_off = a patient would never be dropped off
violation-not_planned = a trip would be neither planned nor listed as unassigned
violation-half_planned = only one of a trip's two stops would be planned
violation-planned_twice = a trip would be planned twice
violation-two_routes = the driver would have two routes
violation-unknown_route = a route of an unknown vehicle
violation-unknown_stop = a stop of an unknown trip

## Suggestions of the autonomous manager
autonomy-title = Suggestions
autonomy-hint = What the autonomous manager proposes for late trips. Accepting one carries it out as a manual change would be, checked against the driver's day; dismissing it changes nothing.
autonomy-none = No suggestion is waiting.
autonomy-what = Suggestion
autonomy-drivers = Drivers
autonomy-reason = Why
autonomy-confidence = Confidence
autonomy-minutes = Minutes saved
autonomy-accept = Accept
autonomy-dismiss = Dismiss
autonomy-accepted = Suggestion accepted and carried out.
autonomy-dismissed = Suggestion dismissed.
autonomy-refused = It can no longer be carried out:
autonomy-run-cycle = Look for late trips now
action-unspecified = Action
action-reassign = Give to another driver
action-swap = Swap with another driver's trip
action-delay = Re-time within its window
action-notify_dispatcher = Tell the dispatcher
suggestion-unspecified = Unknown
suggestion-open = open
suggestion-blocked = blocked by the limits
suggestion-safety_unavailable = safety service unreachable
suggestion-executed = carried out
suggestion-expired = expired
suggestion-accepted = accepted
suggestion-dismissed = dismissed
reason-why-unspecified = Late.
reason-why-reassign = Late with { $from }; { $to } can take it.
reason-why-swap = Late with { $from }; swapping with { $to }'s trip { $other } helps both.
reason-why-delay = Behind plan but still within its window: re-time it.
reason-why-notify_dispatcher = Late, and no driver can take it over.
autonomy-cycle-done = { $late ->
    [one] One late trip
   *[other] { $late } late trips
}, { $proposed ->
    [one] one suggestion
   *[other] { $proposed } suggestions
}, { $executed } carried out.
map-tiles-from = Map tiles:

nav-driver = My day
driver-title = My day
driver-no-stops = No stop on this day.
driver-en-route = On my way
driver-picked-up = Patient on board
driver-completed = Dropped off
driver-no-show = Patient not there
driver-no-show-reason = What happened?
driver-no-show-confirm = Report the no-show
driver-share-starting = Looking for your position…
driver-share-on = Sharing your position
driver-share-offline = Offline: positions kept until the network returns
driver-share-waiting = The server is busy: positions kept, trying again
driver-share-refused = The phone sent positions the server refused
driver-share-denied = Position not shared: allow location for this page
driver-share-unavailable = No position from this phone
driver-share-pending = waiting to send:

## Charts (console/chart.rs)
chart-no-data = No data for this period.

## Admin: users, company, audit log, drift checks (console/users*.rs, company.rs, audit_log.rs, drift.rs)
field-email = Email
field-password = Password
field-role = Role
field-page = Page
users-title = Users
users-account-title = Account
users-new-title = New user
users-new = New user
users-count = { $count ->
    [one] One account
   *[other] { $count } accounts
}
users-email = Email
users-role = Role
users-role-admin = Admin
users-role-dispatcher = Dispatcher
users-role-reporter = Reporter
users-role-driver = Driver
users-driver = Linked driver
users-no-driver = No driver
users-driver-hint = Only for a driver account: the driver whose day it opens.
users-state = Access
users-active = Active
users-inactive = Deactivated
users-last-sign-in = Last sign-in
users-never = Not known
users-created-at = Created
users-manage = Manage
users-myself = This is your own account: you cannot demote or deactivate it.
users-change-role = Role
users-save-role = Change the role
users-password = Password
users-first-password = First password
users-new-password = New password
users-password-hint = 12 characters at least. Leave it empty to have one generated, shown once.
users-reset = Reset the password
users-reset-title = Reset a password
users-reset-hint = The account's sessions end; its user signs in with the new password.
users-reset-confirm = Reset the password of
users-deactivate = Deactivate
users-deactivate-title = Deactivate an account
users-deactivate-hint = Its sessions end at once and it can no longer sign in. It can be reactivated.
users-deactivate-confirm = Deactivate the account of
users-reactivate = Reactivate
users-cancel = Cancel
users-create = Create the account
users-created = Account created.
users-role-changed = Role changed; the account's sessions ended.
users-password-reset = Password reset; the account's sessions ended.
users-deactivated = Account deactivated.
users-reactivated = Account reactivated.
users-secret-once = Its password, shown this once: give it to its user.
users-rule-own_account = You cannot demote or deactivate your own account; ask another admin.
users-rule-last_admin = This is the company's last active admin: make another admin first.
users-email-taken = An account with this email exists already.
users-driver_id-taken = This driver has an account already.
company-title = Company
company-now = Now, in the company's time zone:
company-identity = The company
company-name = Name
company-name-hint = As your staff know it; at most 200 characters.
company-time_zone = Time zone
company-time_zone-hint = An IANA zone such as Europe/Zurich: service days and every time shown follow it.
company-erase_completed_after_days = Erase finished trips' personal details after (days)
company-erase_completed_after_days-hint = 0: never; 1 to 3,650 days after the service day.
company-autonomy = Autonomous manager
company-autonomy_mode = Mode
company-autonomy_mode-hint = Off: nothing. Suggest: proposals for a dispatcher. Autonomous: carried out within the safety limits.
company-mode-off = Off
company-mode-suggest = Suggest
company-mode-autonomous = Autonomous
company-lateness_threshold_minutes = Lateness threshold (minutes)
company-lateness_threshold_minutes-hint = Predicted lateness above which the manager acts: 1 to 240.
company-cycle_interval_seconds = Cycle interval (seconds)
company-cycle_interval_seconds-hint = How often the manager looks at the day: 5 to 3,600.
company-drift = ETA model drift
company-drift_mae_threshold_minutes = Drift threshold, MAE (minutes)
company-drift_mae_threshold_minutes-hint = Mean absolute error above which the check alerts and retrains: 0.1 to 120.
company-drift_check_interval_seconds = Check interval (seconds)
company-drift_check_interval_seconds-hint = How often the drift check runs: 5 to 86,400.
company-bad-name = Enter a name of at most 200 characters.
company-bad-time_zone = Not a time zone: enter an IANA zone such as Europe/Zurich.
company-bad-erase_completed_after_days = Enter 0 (never) or a number of days from 1 to 3,650.
company-bad-autonomy_mode = Choose off, suggest or autonomous.
company-bad-lateness_threshold_minutes = Enter a whole number of minutes from 1 to 240.
company-bad-cycle_interval_seconds = Enter a whole number of seconds from 5 to 3,600.
company-bad-drift_mae_threshold_minutes = Enter a number of minutes from 0.1 to 120.
company-bad-drift_check_interval_seconds = Enter a whole number of seconds from 5 to 86,400.
company-saved = Saved.
company-unchanged = Nothing changed.
company-not-saved = Nothing was saved:
company-saved-company-only = The name, time zone and retention were saved; the autonomous manager's and drift settings were NOT:
audit-title = Audit log
audit-hint = Every change a person made, kept in the safety service's hash chain. Days are in the company's time zone.
audit-filters = Filter the audit log
audit-person = Person
audit-person-filter = Person (email or account id)
audit-resource = Resource
audit-resource-id = Resource id
audit-action = Action
audit-from = From
audit-to = Until
audit-clear = Clear the filters
audit-when = When
audit-changes = Changes
audit-address = Address
audit-masked = changed (value not shown)
audit-none = No change matches.
audit-export = Export as CSV
audit-count = { $count ->
    [one] One change
   *[other] { $count } changes
}
drift-title = Drift checks
drift-run-now = Run a check now
drift-model = Current model
drift-no-model = None trained yet (the routing estimate as is)
drift-mae = MAE
drift-bias = bias
drift-threshold = Threshold
drift-interval = Checks
drift-every = { $count ->
    [one] every second
   *[other] every { $shown } seconds
}
drift-chart-title = Error over the last 30 days
drift-chart-label = The ETA model's mean absolute error per day over the last { $days } days, in minutes, against the threshold of { $threshold } minutes
drift-day = { $month }/{ $day }
drift-series-mean = Mean MAE
drift-series-max = Largest MAE
drift-series-after = MAE after retraining
drift-threshold-line = Threshold { $threshold } min
drift-total-runs = { $count ->
    [one] one run
   *[other] { $count } runs
}
drift-total-failed = { $count ->
    [one] one failed
   *[other] { $count } failed
}
drift-total-retrained = { $count ->
    [one] one retrain
   *[other] { $count } retrains
}
drift-runs = Runs
drift-filters = Filter the runs
drift-state = State
drift-state-completed = Completed
drift-state-retried = Retried
drift-state-failed = Failed
drift-count = { $count ->
    [one] One run
   *[other] { $count } runs
}
drift-run = Run
drift-attempts = Attempts
drift-trips = Trips
drift-before = Before retraining
drift-after = After retraining
drift-models = Model
drift-detected = drift detected
drift-none = No run yet.
drift-run-measured = Check #{ $id } done: MAE { $mae } min on { $trips } trips, within the threshold of { $threshold } min.
drift-run-no-trips = Check #{ $id } done: no trip completed in the last 24 hours to measure.
drift-run-retrained = Check #{ $id } done: MAE { $mae } min on { $trips } trips, above the threshold of { $threshold } min; retrained to version { $version }, MAE { $after } min after.
drift-run-failed = Check #{ $id } failed after { $attempts } attempts: { $error }
## actions (console/actions*.rs: the autonomous actions)
actions-title = Autonomous actions
actions-sections = Autonomous actions: sections
actions-tab-list = Actions
actions-tab-stats = Statistics
actions-filters = Filter the actions
actions-filters-clear = Clear the filters
actions-filters-wrong = Some filters cannot be read; correct them to see the actions.
actions-type = Action type
actions-status = Outcome
actions-reviewed = Reviewed
actions-reviewed-yes = Reviewed
actions-reviewed-no = Not reviewed
actions-from = From (day)
actions-to = To (day, included)
actions-count = { $count ->
    [0] No action matches.
    [one] One action matches.
   *[other] { $count } actions match.
}
actions-none = No autonomous action matches these filters.
actions-when = When
actions-what = What was done
actions-booking = Booking
actions-drivers = Driver
actions-outcome = Outcome
actions-duration = Execution time
actions-review = Review
actions-to-review = To review
actions-status-unspecified = Unknown
actions-status-authorized = Pending
actions-status-succeeded = Succeeded
actions-status-failed = Failed
actions-type-reassign = Trip given to another driver
actions-type-swap = Trips swapped between drivers
actions-type-delay = Trip re-timed within its window
actions-type-notify_dispatcher = Dispatcher told
actions-yes = yes
actions-no = no
actions-chain = Audit chain
actions-chain-hint = Safety recomputes every hash of the company's trail and checks it against the signed checkpoints.
actions-verify = Verify the chain
actions-chain-intact = The chain is intact: { $rows } rows and { $checkpoints } checkpoints checked.
actions-chain-broken = { $count ->
    [one] The chain is broken: one problem
   *[other] The chain is broken: { $count } problems
} in { $rows } rows checked.
actions-last-checkpoint = Last checkpoint signed:
actions-break-row = Row
actions-break-position = Chain position
actions-break-kind = What is wrong
actions-break-detail = As safety reports it
actions-break-action = Action
actions-break-record = Human record
actions-break-content_changed = Content changed since it was written
actions-break-row_missing = Rows missing
actions-break-truncated = Trail cut short
actions-break-checkpoint_signature_invalid = Checkpoint signature invalid
actions-break-checkpoint_missing = Checkpoint missing
actions-break-checkpoint_chain_broken = Checkpoints no longer chained
actions-break-checkpoint_replaced = Checkpoint replaced
actions-detail-title = Action
actions-what-happened = What happened
actions-description = Description (as recorded)
actions-updated = Last change
actions-confidence = Confidence
actions-minutes = Minutes expected to be saved
actions-trigger = Triggered by
actions-authorized-by = Authorised by
actions-authorized-unknown = not recorded (written before this was kept)
actions-reviewed-by = Reviewed by
actions-reviewed-at = Reviewed at
actions-review-hint = Reviewing records your notes in the audit chain. An action is reviewed once; the review cannot be changed afterwards.
actions-review-submit = Mark as reviewed
actions-review-done = Review recorded.
actions-review-refused = Safety refused this review: the action had already been reviewed, and a review is never overwritten. The review on record is shown below.
actions-data = The action's data
actions-data-raw = As stored (JSON)
actions-data-kind = Kind
actions-data-booking_id = Booking
actions-data-other_booking_id = Other booking
actions-data-from_driver_id = From driver
actions-data-to_driver_id = To driver
actions-windows = Limit windows it consumed
actions-windows-none = It consumed no limit window.
actions-window-scope = Limit
actions-window-window = Window
actions-window-taken = Slot taken
actions-window-company = Company-wide
actions-window-type = { $type }
actions-window-hour = last 60 minutes
actions-window-day = last 24 hours
actions-window-slot = { $used } of { $limit }
actions-chain-place = Place in the audit chain
actions-chain-place-hint = Each event of the action is a position of the company's hash chain; its hash covers the previous one.
actions-hash-version = Hash version
actions-chain-event = Event
actions-chain-hash = Hash (SHA-256)
actions-chain-prev = Previous event
actions-chain-authorize = Authorisation
actions-chain-complete = Completion
actions-chain-review = Review
actions-chain-not-yet = not yet
actions-stats-title = Autonomous actions: statistics
actions-by = Per
actions-by-hour = hour
actions-by-day = day
actions-by-week = week
actions-by-month = month
actions-stack = Stack by
actions-stack-outcome = outcome
actions-stack-type = type
actions-stats-span = Since { $since }, in the company's time zone.
actions-total = Actions
actions-blocked = Blocked attempts
actions-success-rate = Success rate
actions-reviewed-count = Reviewed
actions-avg-time = Mean execution time
actions-p95-time = 95th percentile execution time
actions-chart-actions = Actions
actions-chart-by-outcome = Actions per period, by outcome
actions-chart-by-type = Actions per period, by type
actions-chart-blocked = Attempts blocked by the limits
actions-chart-success = Success rate (%)
actions-chart-types = Actions by type
actions-other-types = Other types

## limits (console/limits.rs: the safety limits)
limits-title = Safety limits
limits-saved = Limits saved.
limits-usage = Current usage
limits-usage-hint = How many autonomous actions each window holds now, as safety counts them (failed actions free their slot).
limits-last-hour = Last 60 minutes
limits-last-day = Last 24 hours
limits-none-allowed = none allowed
limits-full = Full.
limits-frees-at = Room again at
limits-edit = Limits and the company's overrides
limits-edit-hint = A value you enter overrides the default shown in grey; an empty field uses the default. Saving replaces every override.
limits-all-default = The company uses the defaults everywhere.
limits-scope = Applies to
limits-in-force = In force
limits-per-hour = Per 60 minutes
limits-per-day = Per 24 hours
limits-company = Every action of the company
limits-default-type = Each action type without its own line
limits-type-name = Action type
limits-type-placeholder = action type
limits-effective = { $hour } / h, { $day } / 24 h
limits-empty-hint = Leave a field empty to use the default; clear a type's line to remove it.
## Status page (console/status*.rs)
uptime-title = Status
uptime-hint = Every monitor of the company with its last 90 checks. Changes show within seconds.
uptime-filter-state = State
uptime-filter-all = All states
uptime-filter-name = Name
uptime-filter = Filter
uptime-none = No monitor yet.
uptime-none-match = No monitor matches these filters.
uptime-monitor = Monitor
uptime-state = State
uptime-state-unspecified = Unknown
uptime-state-up = Up
uptime-state-pending = Pending
uptime-state-down = Down
uptime-state-paused = Paused
uptime-state-maintenance = Maintenance
uptime-kind-unspecified = Check
uptime-kind-http = HTTP
uptime-kind-grpc_health = gRPC health
uptime-kind-tcp = TCP
uptime-last-checks = Last 90 checks
uptime-24h = 24 h
uptime-30d = 30 days
uptime-response = Response time
uptime-under = under
uptime-since = since
uptime-pause = Pause
uptime-resume = Resume
uptime-pages = Pages
uptime-page = Page
uptime-previous = Previous
uptime-next = Next
uptime-matching = { $count ->
    [one] one monitor
   *[other] { $count } monitors
}
uptime-strip-label = { $count } checks: { $up } up, { $down } failed
uptime-spark-label = Response time of the last checks; { $avg } ms on average over 24 hours
uptime-days-hours = { $days } d { $hours } h
uptime-maint-title = Maintenance windows
uptime-maint-monitors = Monitors
uptime-maint-monitors-hint = None chosen: every monitor. Checks go on during a window, without alerts, and are left out of uptime.
uptime-maint-start = Start
uptime-maint-end = End
uptime-maint-reason = Reason
uptime-maint-create = Schedule the window
uptime-maint-list = Under way and to come
uptime-maint-none = No maintenance window under way or to come.
uptime-maint-active = Under way
uptime-maint-upcoming = To come
uptime-maint-delete = Delete
uptime-maint-confirm-delete = Delete this maintenance window? Its monitors will alert again.
uptime-maint-all = Every monitor
uptime-maint-created = Maintenance window scheduled.
uptime-maint-deleted = Maintenance window deleted.
uptime-bad-datetime = Enter a date and a time.
uptime-public-title = Public status page
uptime-public-hint = A read-only page anyone may open without signing in: the monitors' names and states, nothing else.
uptime-public-slug = Address
uptime-public-slug-hint = 3 to 63 lowercase letters, digits and hyphens, e.g. acme-transport.
uptime-public-page-title = Page title
uptime-public-enabled = Published
uptime-public-save = Save
uptime-public-at = Published at
uptime-public-on = The public status page is published.
uptime-public-off = The public status page is saved and not published.
uptime-public-required = Required.
uptime-public-title-long = At most 100 characters, on one line.
uptime-public-slug-format = Use 3 to 63 lowercase letters, digits and hyphens (not first, last or doubled).
uptime-public-slug-reserved = This word is taken by the console itself; choose another.
uptime-public-slug-taken = Another company's page has this address.
uptime-public-unavailable = The status cannot be read at the moment.
uptime-overall-ok = All systems operational
uptime-overall-maintenance = Maintenance under way
uptime-overall-outage = Some systems are down
uptime-checks = Checks
uptime-every = Every
uptime-seconds = { $count ->
    [one] one second
   *[other] { $count } seconds
}
uptime-timeout = timeout
uptime-retries = retries
uptime-recovery = good checks to recover
uptime-avg = Average response (24 h)
uptime-children = Depends on it
uptime-incidents = Incidents
uptime-incidents-hint = When the monitor went down and for how long, over the last 30 days.
uptime-incident-start = Down at
uptime-incident-end = Up again at
uptime-incident-duration = Downtime
uptime-incident-cause = First failure
uptime-incident-ongoing = Still down
uptime-incidents-none = No incident in the last 30 days.
uptime-response-ms = Response time (ms)
uptime-response-chart = Response time
uptime-state-since = State since
## Notifications (console/notifications*.rs, channels*.rs)
notifications-title = Notifications
notifications-detail-title = Notification
notifications-outbox = Outbox
notifications-pages = Notifications pages
notifications-by-status = Notifications by status
notifications-tab-all = All
notifications-tab-pending = Pending
notifications-tab-sending = Sending
notifications-tab-delivered = Delivered
notifications-tab-dead = Dead
notif-status-unspecified = Unknown
notif-status-pending = Pending
notif-status-sending = Sending
notif-status-delivered = Delivered
notif-status-dead = Dead
notif-severity-unspecified = Unknown
notif-severity-info = Info
notif-severity-warning = Warning
notif-severity-error = Error
notif-severity-critical = Critical
notifications-channel = Channel
notifications-event-type = Event type
notifications-from = From
notifications-to = To
notifications-clear-filter = Clear the filter
notifications-period-backwards = The period ends before it starts.
notifications-bad-event-type = Only a-z, 0-9, “.”, “_” and “-”, at most 100 characters.
notifications-count = { $count ->
    [0] No notification
    [one] One notification
   *[other] { $count } notifications
}
notifications-live = updating while some are under way
notifications-created = Created
notifications-status = Status
notifications-subject = Subject
notifications-severity = Severity
notifications-attempts = Attempts
notifications-last-error = Last error
notifications-none = No notification matches.
notifications-retry = Retry
notifications-retried = Queued again: a new attempt is due now.
notifications-retry-refused = Only a pending or dead notification can be retried; this one has been delivered or is being sent.
notifications-log-channel = Log (built in)
notifications-channel-deleted = Deleted channel
notifications-delivered-at = Delivered
notifications-next-attempt = Next attempt
notifications-key = Idempotency key
notifications-body = Message
notifications-fields = Fields
notifications-attempt-start = Started
notifications-attempt-duration = Duration
notifications-attempt-result = Result
notifications-attempt-code = Response code
notifications-attempt-error = Error
notifications-attempt-ok = Delivered
notifications-attempt-failed = Failed
notifications-no-attempt = No attempt yet.
notifications-replay-open = { $count ->
    [one] Replay the dead notification…
   *[other] Replay the { $count } dead notifications…
}
notifications-replay-title = Replay dead notifications
notifications-replay-every = Every dead notification of the company, whatever its channel, event type or date.
notifications-replay-filter = The dead notifications matching:
notifications-replay-nothing = No dead notification matches: there is nothing to replay.
notifications-replay-will = { $count ->
    [one] One dead notification will be put back in the queue and attempted again.
   *[other] { $count } dead notifications will be put back in the queue and attempted again.
}
notifications-replay-do = { $count ->
    [one] Replay 1 notification
   *[other] Replay { $count } notifications
}
notifications-replay-first = { $count ->
    [one] The first of them
   *[other] The first { $count } of them
}
notifications-replay-these = They are:
notifications-cancel = Cancel
notifications-replayed = { $count ->
    [0] No dead notification was replayed.
    [one] One dead notification was put back in the queue.
   *[other] { $count } dead notifications were put back in the queue.
}
notifications-replayed-differs = { $counted ->
    [one] One was counted when you confirmed: the outbox changed in between.
   *[other] { $counted } were counted when you confirmed: the outbox changed in between.
}
channels-title = Channels and routing
channels-channels = Channels
channels-new = New channel
channels-new-title = New channel
channels-edit-title = Edit channel
channels-name = Name
channels-kind = Kind
channels-kind-unspecified = Unknown
channels-kind-log = Log
channels-kind-discord = Discord
channels-kind-email = Email
channels-kind-webhook = Webhook
channels-kind-hint = A webhook posts signed JSON to a URL; Discord posts to a Discord webhook URL; email needs the SMTP server notify is configured with; the log needs nothing.
channels-target = Delivers to
channels-log-target = the notify service's log
channels-secret = Signing secret
channels-has-secret = Has a secret
channels-no-secret = None
channels-state = State
channels-on = Enabled
channels-off = Disabled
channels-test = Send a test
channels-test-title = Test notification from atmr
channels-test-body = Sent by { $who } to check this channel.
channels-test-queued = Test notification queued; the outbox delivers it in the background.
channels-test-see = See it in the outbox
channels-enable = Enable
channels-disable = Disable
channels-enabled-done = Channel enabled:
channels-disabled-done = Channel disabled:
channels-delete = Delete
channels-delete-confirm = Delete this channel and its routing rules? Its notifications stay in the outbox.
channels-deleted = Channel deleted, with its routing rules.
channels-disabled-hint = A disabled channel keeps its settings, but what is routed to it fails at once and is kept as dead.
channels-web = Webhook and Discord
channels-url = URL
channels-url-hint = An http:// or https:// address on the internet. notify does not reach private addresses (this machine, the local network, a cloud's metadata service) unless an operator allows them.
channels-secret-input = Signing secret (webhook)
channels-secret-hint = Optional: the key of the HMAC-SHA256 signature the webhook sends. It is never shown again.
channels-secret-kept = This webhook has a secret: leave the field empty to keep it, or type a new one. It is never shown.
channels-secret-clear = Remove the secret
channels-email = Email
channels-recipients = Recipients
channels-recipients-hint = One address per line (at most 50).
channels-bad-name = Enter a name of 1 to 100 characters, on one line.
channels-name-taken = A channel with this name exists already.
channels-bad-url = Enter a full http:// or https:// URL with a host.
channels-url-private = notify refuses this address: it is private (this machine, the local network or a cloud's metadata service) and not among the addresses an operator allowed (NOTIFY_EGRESS_ALLOW).
channels-bad-secret = At most 200 characters, on one line.
channels-bad-recipients = Enter at least one email address, one per line (at most 50).
channels-bad-recipient = Address { $n } is not an email address.
channels-bad-channel = Choose one of the company's channels.
channels-email-needs-smtp = Email channels need an SMTP server: notify has none configured (NOTIFY_SMTP_HOST).
channels-routes = Routing rules
channels-routes-hint = A notification sent without a channel goes to every enabled rule's channel whose event type and minimum severity it matches; when none matches, to the log.
channels-min-severity = Minimum severity
channels-every-event = every event type
channels-no-route = No routing rule: everything goes to the log.
channels-route-new = New routing rule
channels-route-add = Add the rule
channels-route-needs-channel = Create a channel first: a rule sends to one of the company's channels.
channels-event-hint = Leave the event type empty for every type (e.g. bugs.regression, safety.limit_reached, monitor.down).
channels-route-created = Routing rule added.
channels-route-enabled = Routing rule enabled.
channels-route-disabled = Routing rule disabled: it is kept but routes nothing.
channels-route-deleted = Routing rule deleted.
channels-route-delete-confirm = Delete this routing rule?
channels-route-edit-title = Edit the routing rule
channels-route-enabled-label = Enabled (a disabled rule routes nothing)
## bugs
bugs-title = Bugs
bugs-views = Bug views
bugs-tab-list = List
bugs-tab-trends = Summary and trends
bugs-preset-unresolved = Unresolved
bugs-preset-critical = Critical and unresolved
bugs-preset-frequent = Most reported
bugs-preset-all = All bugs
bugs-search = Search the bugs
bugs-filter-q = Search in title and description
bugs-filter-status = Status
bugs-filter-severity = Severity
bugs-filter-priority = Priority
bugs-filter-category = Category
bugs-filter-environment = Environment
bugs-filter-tag = Tag
bugs-filter-assignee = Assignee
bugs-filter-reporter = Reporter
bugs-filter-from = Created from
bugs-filter-to = Created until
bugs-filter-sort = Sort by
bugs-filter-page = Page
bugs-filter-duplicate_of = Duplicate of
bugs-filter-bad = Check “{ $field }”: “{ $value }” is not accepted.
bugs-filter-clear = Clear the filters
bugs-order-asc = Oldest or smallest first
bugs-more-filters = More filters
bugs-sort-last_seen = Last seen
bugs-sort-created = Created
bugs-sort-updated = Updated
bugs-sort-occurrences = Reports
bugs-sort-severity = Severity
bugs-sort-priority = Priority
bugs-count = { $count ->
    [0] No bug
    [one] One bug
   *[other] { $count } bugs
}
bugs-count-capped = More than { $count } bugs
bugs-none = No bug matches these filters.
bugs-col-bug = Bug
bugs-col-status = Status
bugs-col-severity = Severity
bugs-col-priority = Priority
bugs-col-reports = Reports
bugs-col-first-seen = First seen
bugs-col-last-seen = Last seen
bugs-col-days = Last 14 days
bugs-col-assignee = Assignee
bugs-regressions = { $count ->
    [one] came back once
   *[other] came back { $count } times
}
bugs-spark = Reports on each of the last { $days } days up to { $through } (UTC): { $counts }
bugs-status-unspecified = Unknown
bugs-status-open = Open
bugs-status-in_progress = In progress
bugs-status-resolved = Resolved
bugs-status-closed = Closed
bugs-status-wont_fix = Won't fix
bugs-status-duplicate = Duplicate
bugs-severity-unspecified = Unknown
bugs-severity-low = Low
bugs-severity-medium = Medium
bugs-severity-high = High
bugs-severity-critical = Critical
bugs-priority-unspecified = Unknown
bugs-priority-low = Low
bugs-priority-medium = Medium
bugs-priority-high = High
bugs-priority-urgent = Urgent
bugs-detail-title = Bug
bugs-description = Description
bugs-no-description = No description.
bugs-stack-trace = Stack trace
bugs-no-trace = No stack trace.
bugs-history = History
bugs-history-views = History views
bugs-history-all = Everything
bugs-history-changes = Changes and regressions
bugs-history-regressions = Regressions
bugs-history-count = { $count ->
    [one] One event
   *[other] { $count } events
}
bugs-history-pages = History pages
bugs-newer = Newer
bugs-older = Older
bugs-event-created = Reported by { $actor }
bugs-event-grouped = Reported again by { $actor }, grouped into this bug (status: { $from })
bugs-event-regressed = Regression: reported again by { $actor } while { $from }, so reopened
bugs-event-status_changed = { $actor } changed the status from { $from } to { $to }
bugs-event-assignee_changed = { $actor } changed the assignee from { $from } to { $to }
bugs-event-severity_changed = { $actor } changed the severity from { $from } to { $to }
bugs-event-priority_changed = { $actor } changed the priority from { $from } to { $to }
bugs-event-commented = { $actor } commented
bugs-nobody = nobody
bugs-comments = Comments
bugs-no-comments = No comment yet.
bugs-comment-pages = Comment pages
bugs-comment-add = Add a comment
bugs-comment-send = Comment
bugs-comment-delete = Delete
bugs-comment-delete-confirm = Delete this comment? This cannot be undone.
bugs-comment-bad = Write a comment (at most 10,000 characters).
bugs-triage = Triage
bugs-triage-save = Save the changes
bugs-triage-unchanged = Nothing was changed.
bugs-triage-transition = A bug that is “{ $from }” cannot become “{ $to }”: reopen it first.
bugs-duplicate-hint = The number of the original bug, when the status is “Duplicate”.
bugs-facts = Details
bugs-resolved-at = Resolved
bugs-release = Release
bugs-tags = Tags
bugs-created = Created
bugs-fingerprint = Fingerprint
bugs-trends-title = Bugs: summary and trends
bugs-total = Bugs in all
bugs-open-critical = Open critical bugs
bugs-mttr = Mean time to resolve
bugs-mttr-none = none yet
bugs-mttr-hours = { $hours } h
bugs-mttr-days = { $days } days
bugs-trends-days = The last 30 days
bugs-trends-hint = Days in UTC. “Reopened” counts the bugs reopened by hand and the regressions: resolved or closed bugs reported again.
bugs-trends-table = The days in figures
bugs-trend-day = Day
bugs-trend-opened = Opened
bugs-trend-resolved = Resolved
bugs-trend-reopened = Reopened
bugs-trend-backlog = Open backlog
bugs-summary = Summary
bugs-chart-flow = Bugs opened, resolved and reopened each day, last { $days } days
bugs-chart-backlog = Open bugs at the end of each day, last { $days } days
bugs-chart-status = Bugs by status
bugs-chart-severity = Bugs by severity
bugs-chart-priority = Bugs by priority
bugs-chart-category = Bugs by category
bugs-chart-bugs = Bugs
bugs-chart-others = others
