# La console en français. Chaque identifiant est aussi dans en.ftl (un test le vérifie).

## Mise en page
skip-to-content = Aller au contenu
nav-label = Principal
nav-board = Tableau
nav-map = Carte
nav-bookings = Réservations
nav-clients = Patients
nav-drivers = Chauffeurs
nav-templates = Trajets récurrents
nav-autonomy = Suggestions
nav-admin = Administration
nav-actions = Actions autonomes
nav-limits = Limites de sécurité
nav-users = Utilisateurs
nav-company = Entreprise
nav-audit-log = Journal d’audit
nav-status = État
nav-notifications = Notifications
nav-drift = Contrôles de dérive
nav-bugs = Bugs
logout = Se déconnecter
language-fr = Français
language-en = English

## Connexion
login-title = Connexion
login-email = E-mail
login-password = Mot de passe
login-submit = Se connecter
login-refused = E-mail ou mot de passe incorrect.
login-expired = Le formulaire de connexion avait expiré ; veuillez réessayer.
login-no-console = Votre compte n'a pas encore de page dans la console.

## Erreurs, par code d'erreur de l'API
error-title = Une erreur s'est produite
error-back = Retour à l'accueil
error-unknown = La requête a échoué.
error-invalid-field = Vérifiez « { $field } » : la valeur n'est pas acceptée.
error-invalid_argument = Une partie de la saisie n'est pas acceptée.
error-failed_precondition = Impossible dans l'état actuel de la course ou de la fiche.
error-out_of_range = Une valeur est hors limites.
error-unauthenticated = Votre session a pris fin ; veuillez vous reconnecter.
error-permission_denied = Vous n'avez pas le droit de faire cela.
error-csrf = Cette page n'est plus à jour (son jeton de sécurité manque) ; rechargez-la et réessayez.
error-not_found = Introuvable : l'élément a peut-être été supprimé.
error-already_exists = Cet élément existe déjà.
error-aborted = Quelqu'un a modifié cet élément en même temps ; rechargez et réessayez.
error-resource_exhausted = Trop de requêtes ; patientez un instant et réessayez.
error-unavailable = Le service { $service } n'est pas disponible pour le moment ; réessayez sous peu.
error-deadline_exceeded = Le service a mis trop de temps à répondre ; réessayez.
error-unimplemented = Cette fonction n'est pas disponible.
error-internal = Un problème est survenu de notre côté. Référence : { $ref }
error-payload_too_large = Le fichier ou le formulaire est trop volumineux.

## Libellés des champs
field-day = Jour
field-mode = Mode de planification
field-lang = Langue
field-status = Statut
field-reason = Motif
field-driver_id = Chauffeur
field-booking_id = Réservation
field-client_id = Patient
field-pickup_earliest = Prise en charge dès
field-pickup_latest = Prise en charge jusqu'à
field-appointment_time = Rendez-vous
field-pickup_address = Adresse de prise en charge
field-dropoff_address = Adresse de dépose
field-pickup = Lieu de prise en charge
field-dropoff = Lieu de dépose
field-passengers = Passagers
field-mobility = Mobilité
field-boarding_minutes = Minutes d'embarquement
field-notes = Remarques
field-name = Nom
field-phone = Téléphone
field-address = Adresse
field-service_day = Jour de service

## Dates
weekday-1 = lundi
weekday-2 = mardi
weekday-3 = mercredi
weekday-4 = jeudi
weekday-5 = vendredi
weekday-6 = samedi
weekday-7 = dimanche
month-1 = janvier
month-2 = février
month-3 = mars
month-4 = avril
month-5 = mai
month-6 = juin
month-7 = juillet
month-8 = août
month-9 = septembre
month-10 = octobre
month-11 = novembre
month-12 = décembre

## Vocabulaires
status-unspecified = Inconnu
status-pending = En attente
status-assigned = Assignée
status-en_route = En route
status-picked_up = Pris en charge
status-completed = Terminée
status-cancelled = Annulée
status-no_show = Absent
mobility-unspecified = Inconnue
mobility-ambulatory = Valide
mobility-wheelchair = Fauteuil roulant
mobility-stretcher = Couché (brancard)
vehicle-unspecified = Véhicule
vehicle-car = Voiture
vehicle-wheelchair_van = Véhicule TPMR
vehicle-stretcher = Véhicule brancard
reason-no_vehicle_of_kind = Aucun véhicule du type requis
reason-capacity = Trop de places nécessaires
reason-time_window = La fenêtre de prise en charge ne peut être tenue
reason-ride_time = Le trajet serait trop long
reason-shift = Aucun horaire de chauffeur ne la couvre
reason-fleet_full = Tous les chauffeurs adaptés sont complets
reason-not_planned = Pas encore planifiée
routing-osrm = réseau routier (OSRM)
routing-haversine = modèle de distance

## Tableau
board-title = Tableau
board-day = Jour
board-show = Afficher
board-prev-day = Jour précédent
board-next-day = Jour suivant
board-plan-full = Planifier la journée
board-plan-pending = Planifier les en attente
board-planning = Planification…
board-run-done = Planifié
board-run-failed = La planification a échoué ; rien n'a été modifié.
board-run-assigned = réservations assignées
board-run-drivers = chauffeurs
board-run-solver = calcul
board-assigned = Assignées
board-drivers-used = chauffeurs occupés
board-unassigned = Non assignées
board-unassigned-count = { $count ->
    [one] { $count } réservation non assignée
   *[other] { $count } réservations non assignées
}
board-none-unassigned = Toutes les réservations ont un chauffeur.
board-will-call = sur appel
board-timeline-label = Journées des chauffeurs, une ligne par chauffeur
board-legend = Légende
board-return-trip = Trajet retour
board-shift = Horaire de service
board-panel-hint = Sélectionnez une course, ou glissez-la sur un autre chauffeur.

## Panneau de course
trip-title = Course
trip-patient = Patient
trip-window = Prise en charge
trip-appointment = rendez-vous
trip-from = Départ
trip-to = Arrivée
trip-mobility = Mobilité
trip-status = Statut
trip-notes = Remarques
trip-driver = Chauffeur
trip-reassign = Réassigner
trip-violations = La journée de ce chauffeur ne peut pas prendre la course telle quelle :
trip-force-reason = Motif du forçage (conservé)
trip-force = Forcer la réassignation
trip-change-status = Changer le statut
trip-status-reason = Motif (absence ou annulation)

## Formulaires
form-save = Enregistrer
form-choose = Choisir…
form-has-errors = Certains champs sont à corriger ; rien n'a été enregistré.
form-choose-patient = Choisissez le patient.
form-bad-date = Saisissez une date (AAAA-MM-JJ).
form-bad-time = Saisissez une heure HH:MM (sur 24 heures).
form-bad-choice = Choisissez une des valeurs proposées.
form-bad-number = Saisissez un nombre.
field-latitude = Latitude
field-longitude = Longitude
field-vehicle_kind = Véhicule
field-seats = Places assises
field-wheelchair_places = Places fauteuil
field-shift_start_minute = Début de service
field-shift_end_minute = Fin de service
field-location = Domicile
field-depot = Dépôt
filter-any = Tous
filter-apply = Filtrer
list-actions = Actions
list-edit = Modifier
list-pages = Pages
list-prev = Précédente
list-next = Suivante
list-page = Page
nav-manifest = Feuilles de route

## Réservations
bookings-title = Réservations
bookings-new = Nouvelle réservation
bookings-none = Aucune réservation ne correspond.
bookings-count = { $count ->
    [0] Aucune réservation
    [one] Une réservation
   *[other] { $count } réservations
}
booking-new-title = Nouvelle réservation
booking-edit-title = Modifier la réservation
booking-who-when = Patient et horaire
booking-pickup = Prise en charge
booking-pickup-hint = Laissez l'adresse et les coordonnées vides pour prendre le patient à son domicile.
booking-dropoff = Dépose
booking-on-board = À bord
booking-patients-mobility = Celle du patient
import-title = Importer des réservations depuis un fichier CSV
import-hint = Une réservation par ligne, avec une ligne d'en-tête qui nomme les colonnes ci-dessous (dans n'importe quel ordre ; celles qui ne sont pas obligatoires peuvent manquer). Heures HH:MM dans le fuseau de l'entreprise. Si une seule ligne est fausse, rien n'est importé.
import-file = Fichier CSV
import-submit = Importer
import-done = { $count ->
    [one] Une réservation importée.
   *[other] { $count } réservations importées.
}
import-refused = Rien n'a été importé. Corrigez ces lignes puis importez à nouveau le fichier :
import-more = … et { $count } de plus.
import-line = Ligne
import-not-csv = Le fichier n'est pas du texte CSV.
import-unknown-column = colonne inconnue
import-missing-column = colonne obligatoire absente
import-bad-line = la ligne est illisible (vérifiez son nombre de colonnes et ses guillemets)
import-too-many = Le fichier contient plus de { $max } réservations ; découpez-le.
import-empty = Le fichier ne contient aucune réservation.

## Personnes
clients-title = Patients
clients-new = Nouveau patient
clients-count = { $count ->
    [0] Aucun patient
    [one] Un patient
   *[other] { $count } patients
}
clients-detail = Adresse
clients-tag = Mobilité
client-new-title = Nouveau patient
client-edit-title = Modifier le patient
drivers-title = Chauffeurs
drivers-new = Nouveau chauffeur
drivers-count = { $count ->
    [0] Aucun chauffeur
    [one] Un chauffeur
   *[other] { $count } chauffeurs
}
drivers-detail = Véhicule et service
drivers-tag = Statut
driver-new-title = Nouveau chauffeur
driver-edit-title = Modifier le chauffeur
driver-status-unspecified = Inconnu
driver-status-available = Disponible
driver-status-on_duty = En service
driver-status-off_duty = Hors service
driver-status-inactive = Inactif
people-search = Rechercher par nom
people-none = Personne ne correspond.
people-deactivate = Désactiver
people-deactivate-confirm = Désactiver

## Feuilles de route
manifest-title = Feuilles de route
manifest-none = Aucun chauffeur n'a de course ce jour-là.
manifest-no-stops = Aucun arrêt ce jour-là.
manifest-vehicle = Véhicule
manifest-shift = Service
manifest-first = Premier arrêt
manifest-trips = Courses
manifest-print = Imprimer
manifest-csv = Télécharger en CSV
manifest-time = Heure
manifest-stop = Arrêt
manifest-address = Adresse

## Carte
map-title = Carte
map-label = Les arrêts du jour et les dernières positions des chauffeurs
map-pickup = Prise en charge
map-dropoff = Dépose
map-driver = Dernière position d'un chauffeur
map-seen = vu à
map-cars = { $count ->
    [0] Aucun chauffeur localisé
    [one] Un chauffeur localisé
   *[other] { $count } chauffeurs localisés
}
map-waiting = { $count ->
    [0] aucune réservation n'attend de chauffeur
    [one] une réservation attend un chauffeur
   *[other] { $count } réservations attendent un chauffeur
}

## Trajets récurrents
templates-title = Trajets récurrents
templates-new = Nouveau trajet récurrent
templates-none = Aucun trajet récurrent pour l'instant.
templates-days = Jours
templates-return = Retour
templates-valid = Validité
templates-delete = Supprimer
templates-delete-confirm = Supprimer ce trajet récurrent ? Les réservations déjà créées restent.
templates-generate = Générer la journée
templates-generate-hint = Crée les réservations du jour à partir de chaque trajet récurrent qui tombe ce jour-là ; celles déjà créées restent telles quelles.
templates-choose-weekday = Cochez au moins un jour.
templates-generated = { $day } : { $count ->
    [0] aucune nouvelle réservation
    [one] une réservation créée
   *[other] { $count } réservations créées
}, { $present } déjà présentes.
field-return_earliest = Retour dès
field-return_latest = Retour jusqu'à
field-valid_from = Valable dès
field-valid_until = Valable jusqu'au
field-weekdays = Jours

## Réassignation, selon les règles du contrôleur
trip-forced = Forcée malgré le contrôleur
trip-force-reason-needed = Dites pourquoi vous forcez (au moins 3 caractères) ; la raison est conservée avec la course.
trip-does-not-fit = La journée de ce chauffeur ne peut pas prendre la course ; rien n'a été déplacé.
violation-unreachable = le chauffeur ne peut pas atteindre un arrêt à temps
violation-wrong_vehicle = la mobilité du patient ne convient pas à ce véhicule
violation-outside_window = une prise en charge tombe hors de sa plage
violation-over_capacity = pas assez de places assises ou de places fauteuil
violation-ride_too_long = un patient resterait à bord plus longtemps que permis
violation-after_appointment = une dépose arriverait après le rendez-vous
violation-after_shift = le chauffeur rentrerait après la fin de son service
violation-picked_up_twice = un patient serait pris en charge deux fois
violation-not_picked_up = une dépose viendrait avant sa prise en charge
violation-never_dropped_off = un patient ne serait jamais déposé
violation-not_planned = une course ne serait ni planifiée ni listée comme non assignée
violation-half_planned = un seul des deux arrêts d'une course serait planifié
violation-planned_twice = une course serait planifiée deux fois
violation-two_routes = le chauffeur aurait deux tournées
violation-unknown_route = une tournée d'un véhicule inconnu
violation-unknown_stop = un arrêt d'une course inconnue

## Suggestions du gestionnaire autonome
autonomy-title = Suggestions
autonomy-hint = Ce que le gestionnaire autonome propose pour les courses en retard. Accepter en exécute une comme le ferait un changement manuel, contrôlé sur la journée du chauffeur ; l'écarter ne change rien.
autonomy-none = Aucune suggestion en attente.
autonomy-what = Suggestion
autonomy-drivers = Chauffeurs
autonomy-reason = Pourquoi
autonomy-confidence = Confiance
autonomy-minutes = Minutes gagnées
autonomy-accept = Accepter
autonomy-dismiss = Écarter
autonomy-accepted = Suggestion acceptée et exécutée.
autonomy-dismissed = Suggestion écartée.
autonomy-refused = Elle ne peut plus être exécutée :
autonomy-run-cycle = Chercher les retards maintenant
action-unspecified = Action
action-reassign = Confier à un autre chauffeur
action-swap = Échanger avec la course d'un autre chauffeur
action-delay = Décaler dans sa plage
action-notify_dispatcher = Prévenir le régulateur
suggestion-unspecified = Inconnu
suggestion-open = ouverte
suggestion-blocked = bloquée par les limites
suggestion-safety_unavailable = service de sécurité injoignable
suggestion-executed = exécutée
suggestion-expired = expirée
suggestion-accepted = acceptée
suggestion-dismissed = écartée
reason-why-unspecified = En retard.
reason-why-reassign = En retard avec { $from } ; { $to } peut la prendre.
reason-why-swap = En retard avec { $from } ; l'échanger avec la course { $other } de { $to } aide les deux.
reason-why-delay = En retard sur le plan mais encore dans sa plage : la décaler.
reason-why-notify_dispatcher = En retard, et aucun chauffeur ne peut la reprendre.
autonomy-cycle-done = { $late ->
    [0] Aucune course en retard
    [one] Une course en retard
   *[other] { $late } courses en retard
}, { $proposed ->
    [0] aucune suggestion
    [one] une suggestion
   *[other] { $proposed } suggestions
}, { $executed ->
    [0] aucune exécutée
    [one] une exécutée
   *[other] { $executed } exécutées
}.
map-tiles-from = Fond de carte :

nav-driver = Ma journée
driver-title = Ma journée
driver-no-stops = Aucun arrêt ce jour-là.
driver-en-route = Je suis en route
driver-picked-up = Patient à bord
driver-completed = Patient déposé
driver-no-show = Patient absent
driver-no-show-reason = Que s'est-il passé ?
driver-no-show-confirm = Signaler l'absence
driver-share-starting = Recherche de votre position…
driver-share-on = Position partagée
driver-share-offline = Hors ligne : positions gardées jusqu'au retour du réseau
driver-share-waiting = Le serveur est occupé : positions gardées, nouvel essai
driver-share-refused = Le téléphone a envoyé des positions refusées par le serveur
driver-share-denied = Position non partagée : autorisez la localisation pour cette page
driver-share-unavailable = Aucune position de ce téléphone
driver-share-pending = en attente d'envoi :

## Charts (console/chart.rs)
chart-no-data = Aucune donnée pour cette période.

## bugs
bugs-title = Bugs
bugs-views = Vues des bugs
bugs-tab-list = Liste
bugs-tab-trends = Synthèse et tendances
bugs-preset-unresolved = Non résolus
bugs-preset-critical = Critiques non résolus
bugs-preset-frequent = Les plus signalés
bugs-preset-all = Tous les bugs
bugs-search = Rechercher des bugs
bugs-filter-q = Rechercher dans le titre et la description
bugs-filter-status = Statut
bugs-filter-severity = Gravité
bugs-filter-priority = Priorité
bugs-filter-category = Catégorie
bugs-filter-environment = Environnement
bugs-filter-tag = Étiquette
bugs-filter-assignee = Responsable
bugs-filter-reporter = Signalé par
bugs-filter-from = Créés dès le
bugs-filter-to = Créés jusqu'au
bugs-filter-sort = Trier par
bugs-filter-page = Page
bugs-filter-duplicate_of = Doublon de
bugs-filter-bad = Vérifiez « { $field } » : « { $value } » n'est pas accepté.
bugs-filter-clear = Effacer les filtres
bugs-order-asc = Les plus anciens ou les plus petits d'abord
bugs-more-filters = Plus de filtres
bugs-sort-last_seen = Dernière occurrence
bugs-sort-created = Création
bugs-sort-updated = Mise à jour
bugs-sort-occurrences = Signalements
bugs-sort-severity = Gravité
bugs-sort-priority = Priorité
bugs-count = { $count ->
    [0] Aucun bug
    [one] Un bug
   *[other] { $count } bugs
}
bugs-count-capped = Plus de { $count } bugs
bugs-none = Aucun bug ne correspond à ces filtres.
bugs-col-bug = Bug
bugs-col-status = Statut
bugs-col-severity = Gravité
bugs-col-priority = Priorité
bugs-col-reports = Signalements
bugs-col-first-seen = Première occurrence
bugs-col-last-seen = Dernière occurrence
bugs-col-days = 14 derniers jours
bugs-col-assignee = Responsable
bugs-regressions = { $count ->
    [one] revenu une fois
   *[other] revenu { $count } fois
}
bugs-spark = Signalements de chacun des { $days } derniers jours jusqu'au { $through } (UTC) : { $counts }
bugs-status-unspecified = Inconnu
bugs-status-open = Ouvert
bugs-status-in_progress = En cours
bugs-status-resolved = Résolu
bugs-status-closed = Fermé
bugs-status-wont_fix = Ne sera pas corrigé
bugs-status-duplicate = Doublon
bugs-severity-unspecified = Inconnue
bugs-severity-low = Faible
bugs-severity-medium = Moyenne
bugs-severity-high = Élevée
bugs-severity-critical = Critique
bugs-priority-unspecified = Inconnue
bugs-priority-low = Basse
bugs-priority-medium = Moyenne
bugs-priority-high = Haute
bugs-priority-urgent = Urgente
bugs-detail-title = Bug
bugs-description = Description
bugs-no-description = Pas de description.
bugs-stack-trace = Pile d'appels
bugs-no-trace = Pas de pile d'appels.
bugs-history = Historique
bugs-history-views = Vues de l'historique
bugs-history-all = Tout
bugs-history-changes = Changements et régressions
bugs-history-regressions = Régressions
bugs-history-count = { $count ->
    [one] Un événement
   *[other] { $count } événements
}
bugs-history-pages = Pages de l'historique
bugs-newer = Plus récents
bugs-older = Plus anciens
bugs-event-created = Signalé par { $actor }
bugs-event-grouped = Signalé à nouveau par { $actor }, regroupé dans ce bug (statut : { $from })
bugs-event-regressed = Régression : signalé à nouveau par { $actor } alors qu'il était « { $from } », donc rouvert
bugs-event-status_changed = { $actor } a changé le statut de « { $from } » à « { $to } »
bugs-event-assignee_changed = { $actor } a changé le responsable de { $from } à { $to }
bugs-event-severity_changed = { $actor } a changé la gravité de « { $from } » à « { $to } »
bugs-event-priority_changed = { $actor } a changé la priorité de « { $from } » à « { $to } »
bugs-event-commented = { $actor } a commenté
bugs-nobody = personne
bugs-comments = Commentaires
bugs-no-comments = Pas encore de commentaire.
bugs-comment-pages = Pages des commentaires
bugs-comment-add = Ajouter un commentaire
bugs-comment-send = Commenter
bugs-comment-delete = Supprimer
bugs-comment-delete-confirm = Supprimer ce commentaire ? C'est définitif.
bugs-comment-bad = Écrivez un commentaire (10 000 caractères au plus).
bugs-triage = Tri
bugs-triage-save = Enregistrer les changements
bugs-triage-unchanged = Rien n'a été changé.
bugs-triage-transition = Un bug « { $from } » ne peut pas devenir « { $to } » : rouvrez-le d'abord.
bugs-duplicate-hint = Le numéro du bug d'origine, quand le statut est « Doublon ».
bugs-facts = Détails
bugs-resolved-at = Résolu le
bugs-release = Version
bugs-tags = Étiquettes
bugs-created = Créé le
bugs-fingerprint = Empreinte
bugs-trends-title = Bugs : synthèse et tendances
bugs-total = Bugs en tout
bugs-open-critical = Bugs critiques ouverts
bugs-mttr = Temps moyen de résolution
bugs-mttr-none = pas encore
bugs-mttr-hours = { $hours } h
bugs-mttr-days = { $days } jours
bugs-trends-days = Les 30 derniers jours
bugs-trends-hint = Jours en UTC. « Rouverts » compte les bugs rouverts à la main et les régressions : des bugs résolus ou fermés signalés à nouveau.
bugs-trends-table = Les jours en chiffres
bugs-trend-day = Jour
bugs-trend-opened = Ouverts
bugs-trend-resolved = Résolus
bugs-trend-reopened = Rouverts
bugs-trend-backlog = Bugs ouverts
bugs-summary = Synthèse
bugs-chart-flow = Bugs ouverts, résolus et rouverts chaque jour, { $days } derniers jours
bugs-chart-backlog = Bugs ouverts à la fin de chaque jour, { $days } derniers jours
bugs-chart-status = Bugs par statut
bugs-chart-severity = Bugs par gravité
bugs-chart-priority = Bugs par priorité
bugs-chart-category = Bugs par catégorie
bugs-chart-bugs = Bugs
bugs-chart-others = autres
