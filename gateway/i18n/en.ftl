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
