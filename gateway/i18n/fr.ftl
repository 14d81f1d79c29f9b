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

## Administration : utilisateurs, entreprise, journal d'audit, dérive (console/users*.rs, company.rs, audit_log.rs, drift.rs)
field-email = E-mail
field-password = Mot de passe
field-role = Rôle
field-page = Page
users-title = Utilisateurs
users-account-title = Compte
users-new-title = Nouvel utilisateur
users-new = Nouvel utilisateur
users-count = { $count ->
    [one] Un compte
   *[other] { $count } comptes
}
users-email = E-mail
users-role = Rôle
users-role-admin = Administrateur
users-role-dispatcher = Répartiteur
users-role-reporter = Rapporteur
users-role-driver = Chauffeur
users-driver = Chauffeur lié
users-no-driver = Aucun chauffeur
users-driver-hint = Seulement pour un compte chauffeur : le chauffeur dont il ouvre la journée.
users-state = Accès
users-active = Actif
users-inactive = Désactivé
users-last-sign-in = Dernière connexion
users-never = Inconnue
users-created-at = Créé le
users-manage = Gérer
users-myself = C'est votre propre compte : vous ne pouvez ni le rétrograder ni le désactiver.
users-change-role = Rôle
users-save-role = Changer le rôle
users-password = Mot de passe
users-first-password = Premier mot de passe
users-new-password = Nouveau mot de passe
users-password-hint = 12 caractères au moins. Laissez vide pour en générer un, affiché une seule fois.
users-reset = Réinitialiser le mot de passe
users-reset-title = Réinitialiser un mot de passe
users-reset-hint = Les sessions du compte prennent fin ; son utilisateur se connecte avec le nouveau mot de passe.
users-reset-confirm = Réinitialiser le mot de passe de
users-deactivate = Désactiver
users-deactivate-title = Désactiver un compte
users-deactivate-hint = Ses sessions prennent fin aussitôt et il ne peut plus se connecter. Il peut être réactivé.
users-deactivate-confirm = Désactiver le compte de
users-reactivate = Réactiver
users-cancel = Annuler
users-create = Créer le compte
users-created = Compte créé.
users-role-changed = Rôle changé ; les sessions du compte ont pris fin.
users-password-reset = Mot de passe réinitialisé ; les sessions du compte ont pris fin.
users-deactivated = Compte désactivé.
users-reactivated = Compte réactivé.
users-secret-once = Son mot de passe, affiché cette seule fois : transmettez-le à son utilisateur.
users-rule-own_account = Vous ne pouvez ni rétrograder ni désactiver votre propre compte ; demandez à un autre administrateur.
users-rule-last_admin = C'est le dernier administrateur actif de l'entreprise : nommez d'abord un autre administrateur.
users-email-taken = Un compte existe déjà avec cet e-mail.
users-driver_id-taken = Ce chauffeur a déjà un compte.
company-title = Entreprise
company-now = Maintenant, dans le fuseau horaire de l'entreprise :
company-identity = L'entreprise
company-name = Nom
company-name-hint = Tel que votre personnel le connaît ; 200 caractères au plus.
company-time_zone = Fuseau horaire
company-time_zone-hint = Un fuseau IANA tel que Europe/Zurich : les journées de service et toutes les heures affichées le suivent.
company-erase_completed_after_days = Effacer les données personnelles des courses terminées après (jours)
company-erase_completed_after_days-hint = 0 : jamais ; de 1 à 3 650 jours après la journée de service.
company-autonomy = Gestionnaire autonome
company-autonomy_mode = Mode
company-autonomy_mode-hint = Désactivé : rien. Suggestions : des propositions pour un répartiteur. Autonome : exécutées dans les limites de sécurité.
company-mode-off = Désactivé
company-mode-suggest = Suggestions
company-mode-autonomous = Autonome
company-lateness_threshold_minutes = Seuil de retard (minutes)
company-lateness_threshold_minutes-hint = Retard prévu au-delà duquel le gestionnaire agit : de 1 à 240.
company-cycle_interval_seconds = Intervalle des cycles (secondes)
company-cycle_interval_seconds-hint = À quelle fréquence le gestionnaire examine la journée : de 5 à 3 600.
company-drift = Dérive du modèle d'ETA
company-drift_mae_threshold_minutes = Seuil de dérive, MAE (minutes)
company-drift_mae_threshold_minutes-hint = Erreur absolue moyenne au-delà de laquelle le contrôle alerte et réentraîne : de 0,1 à 120.
company-drift_check_interval_seconds = Intervalle des contrôles (secondes)
company-drift_check_interval_seconds-hint = À quelle fréquence le contrôle de dérive s'exécute : de 5 à 86 400.
company-bad-name = Saisissez un nom de 200 caractères au plus.
company-bad-time_zone = Ce n'est pas un fuseau horaire : saisissez un fuseau IANA tel que Europe/Zurich.
company-bad-erase_completed_after_days = Saisissez 0 (jamais) ou un nombre de jours de 1 à 3 650.
company-bad-autonomy_mode = Choisissez désactivé, suggestions ou autonome.
company-bad-lateness_threshold_minutes = Saisissez un nombre entier de minutes de 1 à 240.
company-bad-cycle_interval_seconds = Saisissez un nombre entier de secondes de 5 à 3 600.
company-bad-drift_mae_threshold_minutes = Saisissez un nombre de minutes de 0,1 à 120.
company-bad-drift_check_interval_seconds = Saisissez un nombre entier de secondes de 5 à 86 400.
company-saved = Enregistré.
company-unchanged = Rien n'a changé.
company-not-saved = Rien n'a été enregistré :
company-saved-company-only = Le nom, le fuseau horaire et la conservation ont été enregistrés ; les réglages du gestionnaire autonome et de la dérive ne l'ont PAS été :
audit-title = Journal d’audit
audit-hint = Chaque modification faite par une personne, conservée dans la chaîne de hachage du service de sécurité. Les jours sont ceux du fuseau de l'entreprise.
audit-filters = Filtrer le journal d'audit
audit-person = Personne
audit-person-filter = Personne (e-mail ou identifiant de compte)
audit-resource = Ressource
audit-resource-id = Identifiant de la ressource
audit-action = Action
audit-from = Du
audit-to = Au
audit-clear = Effacer les filtres
audit-when = Quand
audit-changes = Modifications
audit-address = Adresse
audit-masked = modifié (valeur non affichée)
audit-none = Aucune modification ne correspond.
audit-export = Exporter en CSV
audit-count = { $count ->
    [one] Une modification
   *[other] { $count } modifications
}
drift-title = Contrôles de dérive
drift-run-now = Lancer un contrôle
drift-model = Modèle actuel
drift-no-model = Aucun entraîné pour l'instant (l'estimation de l'itinéraire telle quelle)
drift-mae = MAE
drift-bias = biais
drift-threshold = Seuil
drift-interval = Contrôles
drift-every = { $count ->
    [one] chaque seconde
   *[other] toutes les { $shown } secondes
}
drift-chart-title = Erreur sur les 30 derniers jours
drift-chart-label = Erreur absolue moyenne du modèle d'ETA par jour sur les { $days } derniers jours, en minutes, face au seuil de { $threshold } minutes
drift-day = { $day }.{ $month }.
drift-series-mean = MAE moyenne
drift-series-max = MAE la plus forte
drift-series-after = MAE après réentraînement
drift-threshold-line = Seuil { $threshold } min
drift-total-runs = { $count ->
    [one] une exécution
   *[other] { $count } exécutions
}
drift-total-failed = { $count ->
    [one] une en échec
   *[other] { $count } en échec
}
drift-total-retrained = { $count ->
    [one] un réentraînement
   *[other] { $count } réentraînements
}
drift-runs = Exécutions
drift-filters = Filtrer les exécutions
drift-state = État
drift-state-completed = Terminée
drift-state-retried = Réessayée
drift-state-failed = En échec
drift-count = { $count ->
    [one] Une exécution
   *[other] { $count } exécutions
}
drift-run = Exécution
drift-attempts = Tentatives
drift-trips = Courses
drift-before = Avant réentraînement
drift-after = Après réentraînement
drift-models = Modèle
drift-detected = dérive détectée
drift-none = Aucune exécution pour l'instant.
drift-run-measured = Contrôle n° { $id } terminé : MAE de { $mae } min sur { $trips } courses, sous le seuil de { $threshold } min.
drift-run-no-trips = Contrôle n° { $id } terminé : aucune course terminée dans les dernières 24 heures à mesurer.
drift-run-retrained = Contrôle n° { $id } terminé : MAE de { $mae } min sur { $trips } courses, au-delà du seuil de { $threshold } min ; réentraîné en version { $version }, MAE de { $after } min ensuite.
drift-run-failed = Contrôle n° { $id } en échec après { $attempts } tentatives : { $error }
## actions (console/actions*.rs: the autonomous actions)
actions-title = Actions autonomes
actions-sections = Actions autonomes : sections
actions-tab-list = Actions
actions-tab-stats = Statistiques
actions-filters = Filtrer les actions
actions-filters-clear = Effacer les filtres
actions-filters-wrong = Certains filtres ne peuvent pas être lus ; corrigez-les pour voir les actions.
actions-type = Type d'action
actions-status = Résultat
actions-reviewed = Revue
actions-reviewed-yes = Revue
actions-reviewed-no = Non revue
actions-from = Du (jour)
actions-to = Au (jour, inclus)
actions-count = { $count ->
    [0] Aucune action ne correspond.
    [one] Une action correspond.
   *[other] { $count } actions correspondent.
}
actions-none = Aucune action autonome ne correspond à ces filtres.
actions-when = Quand
actions-what = Ce qui a été fait
actions-booking = Réservation
actions-drivers = Chauffeur
actions-outcome = Résultat
actions-duration = Durée d'exécution
actions-review = Revue
actions-to-review = À revoir
actions-status-unspecified = Inconnu
actions-status-authorized = En cours
actions-status-succeeded = Réussie
actions-status-failed = Échouée
actions-type-reassign = Course confiée à un autre chauffeur
actions-type-swap = Courses échangées entre chauffeurs
actions-type-delay = Course replanifiée dans sa fenêtre
actions-type-notify_dispatcher = Régulateur averti
actions-yes = oui
actions-no = non
actions-chain = Chaîne d'audit
actions-chain-hint = Le service de sécurité recalcule chaque empreinte de la piste de l'entreprise et la compare aux points de contrôle signés.
actions-verify = Vérifier la chaîne
actions-chain-intact = La chaîne est intacte : { $rows } lignes et { $checkpoints } points de contrôle vérifiés.
actions-chain-broken = { $count ->
    [one] La chaîne est rompue : un problème
   *[other] La chaîne est rompue : { $count } problèmes
} sur { $rows } lignes vérifiées.
actions-last-checkpoint = Dernier point de contrôle signé :
actions-break-row = Ligne
actions-break-position = Position dans la chaîne
actions-break-kind = Ce qui ne va pas
actions-break-detail = Tel que le service le rapporte
actions-break-action = Action
actions-break-record = Enregistrement humain
actions-break-content_changed = Contenu modifié depuis son écriture
actions-break-row_missing = Lignes manquantes
actions-break-truncated = Piste tronquée
actions-break-checkpoint_signature_invalid = Signature de point de contrôle invalide
actions-break-checkpoint_missing = Point de contrôle manquant
actions-break-checkpoint_chain_broken = Points de contrôle plus enchaînés
actions-break-checkpoint_replaced = Point de contrôle remplacé
actions-detail-title = Action
actions-what-happened = Ce qui s'est passé
actions-description = Description (telle qu'enregistrée)
actions-updated = Dernière modification
actions-confidence = Confiance
actions-minutes = Minutes qu'elle devait faire gagner
actions-trigger = Déclenchée par
actions-authorized-by = Autorisée par
actions-authorized-unknown = non enregistré (écrite avant que ce soit conservé)
actions-reviewed-by = Revue par
actions-reviewed-at = Revue le
actions-review-hint = La revue inscrit vos notes dans la chaîne d'audit. Une action est revue une seule fois ; la revue ne peut plus être modifiée ensuite.
actions-review-submit = Marquer comme revue
actions-review-done = Revue enregistrée.
actions-review-refused = Le service de sécurité a refusé cette revue : l'action avait déjà été revue, et une revue n'est jamais écrasée. La revue enregistrée figure ci-dessous.
actions-data = Les données de l'action
actions-data-raw = Telles que stockées (JSON)
actions-data-kind = Genre
actions-data-booking_id = Réservation
actions-data-other_booking_id = Autre réservation
actions-data-from_driver_id = Du chauffeur
actions-data-to_driver_id = Au chauffeur
actions-windows = Fenêtres de limite consommées
actions-windows-none = Elle n'a consommé aucune fenêtre de limite.
actions-window-scope = Limite
actions-window-window = Fenêtre
actions-window-taken = Place prise
actions-window-company = Toute l'entreprise
actions-window-type = { $type }
actions-window-hour = 60 dernières minutes
actions-window-day = 24 dernières heures
actions-window-slot = { $used } sur { $limit }
actions-chain-place = Place dans la chaîne d'audit
actions-chain-place-hint = Chaque événement de l'action est une position de la chaîne d'empreintes de l'entreprise ; son empreinte couvre la précédente.
actions-hash-version = Version de l'empreinte
actions-chain-event = Événement
actions-chain-hash = Empreinte (SHA-256)
actions-chain-prev = Événement précédent
actions-chain-authorize = Autorisation
actions-chain-complete = Achèvement
actions-chain-review = Revue
actions-chain-not-yet = pas encore
actions-stats-title = Actions autonomes : statistiques
actions-by = Par
actions-by-hour = heure
actions-by-day = jour
actions-by-week = semaine
actions-by-month = mois
actions-stack = Empiler par
actions-stack-outcome = résultat
actions-stack-type = type
actions-stats-span = Depuis le { $since }, à l'heure de l'entreprise.
actions-total = Actions
actions-blocked = Tentatives bloquées
actions-success-rate = Taux de réussite
actions-reviewed-count = Revues
actions-avg-time = Durée d'exécution moyenne
actions-p95-time = Durée d'exécution au 95e centile
actions-chart-actions = Actions
actions-chart-by-outcome = Actions par période, selon le résultat
actions-chart-by-type = Actions par période, selon le type
actions-chart-blocked = Tentatives bloquées par les limites
actions-chart-success = Taux de réussite (%)
actions-chart-types = Actions par type
actions-other-types = Autres types

## limits (console/limits.rs: the safety limits)
limits-title = Limites de sécurité
limits-saved = Limites enregistrées.
limits-usage = Utilisation actuelle
limits-usage-hint = Combien d'actions autonomes chaque fenêtre contient maintenant, comptées comme le fait le service de sécurité (une action échouée libère sa place).
limits-last-hour = 60 dernières minutes
limits-last-day = 24 dernières heures
limits-none-allowed = aucune permise
limits-full = Pleine.
limits-frees-at = De la place à
limits-edit = Limites et dérogations de l'entreprise
limits-edit-hint = Une valeur saisie remplace la valeur par défaut affichée en gris ; un champ vide utilise la valeur par défaut. Enregistrer remplace toutes les dérogations.
limits-all-default = L'entreprise utilise partout les valeurs par défaut.
limits-scope = S'applique à
limits-in-force = En vigueur
limits-per-hour = Par 60 minutes
limits-per-day = Par 24 heures
limits-company = Toutes les actions de l'entreprise
limits-default-type = Chaque type d'action sans ligne propre
limits-type-name = Type d'action
limits-type-placeholder = type d'action
limits-effective = { $hour } / h, { $day } / 24 h
limits-empty-hint = Laissez un champ vide pour la valeur par défaut ; videz la ligne d'un type pour la retirer.
## Status page (console/status*.rs)
uptime-title = État des services
uptime-hint = Chaque moniteur de l’entreprise avec ses 90 derniers contrôles. Les changements s’affichent en quelques secondes.
uptime-filter-state = État
uptime-filter-all = Tous les états
uptime-filter-name = Nom
uptime-filter = Filtrer
uptime-none = Aucun moniteur pour l’instant.
uptime-none-match = Aucun moniteur ne correspond à ces filtres.
uptime-monitor = Moniteur
uptime-state = État
uptime-state-unspecified = Inconnu
uptime-state-up = Opérationnel
uptime-state-pending = En attente
uptime-state-down = En panne
uptime-state-paused = En pause
uptime-state-maintenance = En maintenance
uptime-kind-unspecified = Contrôle
uptime-kind-http = HTTP
uptime-kind-grpc_health = Santé gRPC
uptime-kind-tcp = TCP
uptime-last-checks = 90 derniers contrôles
uptime-24h = 24 h
uptime-30d = 30 jours
uptime-response = Temps de réponse
uptime-under = sous
uptime-since = depuis
uptime-pause = Suspendre
uptime-resume = Reprendre
uptime-pages = Pages
uptime-page = Page
uptime-previous = Précédente
uptime-next = Suivante
uptime-matching = { $count ->
    [one] un moniteur
   *[other] { $count } moniteurs
}
uptime-strip-label = { $count } contrôles : { $up } réussis, { $down } en échec
uptime-spark-label = Temps de réponse des derniers contrôles ; { $avg } ms en moyenne sur 24 heures
uptime-days-hours = { $days } j { $hours } h
uptime-maint-title = Fenêtres de maintenance
uptime-maint-monitors = Moniteurs
uptime-maint-monitors-hint = Aucun choisi : tous les moniteurs. Les contrôles continuent pendant la fenêtre, sans alerte, et ne comptent pas dans la disponibilité.
uptime-maint-start = Début
uptime-maint-end = Fin
uptime-maint-reason = Motif
uptime-maint-create = Planifier la fenêtre
uptime-maint-list = En cours et à venir
uptime-maint-none = Aucune fenêtre de maintenance en cours ou à venir.
uptime-maint-active = En cours
uptime-maint-upcoming = À venir
uptime-maint-delete = Supprimer
uptime-maint-confirm-delete = Supprimer cette fenêtre de maintenance ? Ses moniteurs alerteront de nouveau.
uptime-maint-all = Tous les moniteurs
uptime-maint-created = Fenêtre de maintenance planifiée.
uptime-maint-deleted = Fenêtre de maintenance supprimée.
uptime-bad-datetime = Indiquez une date et une heure.
uptime-public-title = Page d’état publique
uptime-public-hint = Une page en lecture seule que chacun peut ouvrir sans se connecter : les noms et états des moniteurs, rien d’autre.
uptime-public-slug = Adresse
uptime-public-slug-hint = 3 à 63 lettres minuscules, chiffres et tirets, par ex. acme-transport.
uptime-public-page-title = Titre de la page
uptime-public-enabled = Publiée
uptime-public-save = Enregistrer
uptime-public-at = Publiée à l’adresse
uptime-public-on = La page d’état publique est publiée.
uptime-public-off = La page d’état publique est enregistrée et non publiée.
uptime-public-required = Obligatoire.
uptime-public-title-long = 100 caractères au plus, sur une ligne.
uptime-public-slug-format = Utilisez 3 à 63 lettres minuscules, chiffres et tirets (ni au début, ni à la fin, ni doublés).
uptime-public-slug-reserved = Ce mot est réservé à la console ; choisissez-en un autre.
uptime-public-slug-taken = La page d’une autre entreprise a déjà cette adresse.
uptime-public-unavailable = L’état ne peut pas être lu pour le moment.
uptime-overall-ok = Tous les services sont opérationnels
uptime-overall-maintenance = Maintenance en cours
uptime-overall-outage = Certains services sont en panne
uptime-checks = Contrôle
uptime-every = Toutes les
uptime-seconds = { $count ->
    [one] une seconde
   *[other] { $count } secondes
}
uptime-timeout = délai
uptime-retries = essais
uptime-recovery = contrôles réussis pour rétablir
uptime-avg = Réponse moyenne (24 h)
uptime-children = En dépendent
uptime-incidents = Incidents
uptime-incidents-hint = Quand le moniteur est tombé en panne et pour combien de temps, sur les 30 derniers jours.
uptime-incident-start = En panne à
uptime-incident-end = Rétabli à
uptime-incident-duration = Durée de la panne
uptime-incident-cause = Premier échec
uptime-incident-ongoing = Toujours en panne
uptime-incidents-none = Aucun incident ces 30 derniers jours.
uptime-response-ms = Temps de réponse (ms)
uptime-response-chart = Temps de réponse
uptime-state-since = État depuis
## Notifications (console/notifications*.rs, channels*.rs)
notifications-title = Notifications
notifications-detail-title = Notification
notifications-outbox = File d'envoi
notifications-pages = Pages des notifications
notifications-by-status = Notifications par état
notifications-tab-all = Toutes
notifications-tab-pending = En attente
notifications-tab-sending = En cours d'envoi
notifications-tab-delivered = Livrées
notifications-tab-dead = Mortes
notif-status-unspecified = Inconnu
notif-status-pending = En attente
notif-status-sending = En cours d'envoi
notif-status-delivered = Livrée
notif-status-dead = Morte
notif-severity-unspecified = Inconnue
notif-severity-info = Info
notif-severity-warning = Avertissement
notif-severity-error = Erreur
notif-severity-critical = Critique
notifications-channel = Canal
notifications-event-type = Type d'événement
notifications-from = Du
notifications-to = Au
notifications-clear-filter = Effacer le filtre
notifications-period-backwards = La période finit avant de commencer.
notifications-bad-event-type = Seulement a-z, 0-9, « . », « _ » et « - », 100 caractères au plus.
notifications-count = { $count ->
    [0] Aucune notification
    [one] Une notification
   *[other] { $count } notifications
}
notifications-live = mise à jour tant que des envois sont en cours
notifications-created = Créée
notifications-status = État
notifications-subject = Objet
notifications-severity = Gravité
notifications-attempts = Tentatives
notifications-last-error = Dernière erreur
notifications-none = Aucune notification ne correspond.
notifications-retry = Réessayer
notifications-retried = Remise dans la file : une nouvelle tentative est due maintenant.
notifications-retry-refused = Seule une notification en attente ou morte peut être réessayée ; celle-ci a été livrée ou est en cours d'envoi.
notifications-log-channel = Journal (intégré)
notifications-channel-deleted = Canal supprimé
notifications-delivered-at = Livrée
notifications-next-attempt = Prochaine tentative
notifications-key = Clé d'idempotence
notifications-body = Message
notifications-fields = Champs
notifications-attempt-start = Début
notifications-attempt-duration = Durée
notifications-attempt-result = Résultat
notifications-attempt-code = Code de réponse
notifications-attempt-error = Erreur
notifications-attempt-ok = Livrée
notifications-attempt-failed = Échec
notifications-no-attempt = Aucune tentative pour l'instant.
notifications-replay-open = { $count ->
    [one] Rejouer la notification morte…
   *[other] Rejouer les { $count } notifications mortes…
}
notifications-replay-title = Rejouer des notifications mortes
notifications-replay-every = Toutes les notifications mortes de l'entreprise, quels que soient leur canal, leur type d'événement ou leur date.
notifications-replay-filter = Les notifications mortes qui correspondent à :
notifications-replay-nothing = Aucune notification morte ne correspond : il n'y a rien à rejouer.
notifications-replay-will = { $count ->
    [one] Une notification morte sera remise dans la file et tentée à nouveau.
   *[other] { $count } notifications mortes seront remises dans la file et tentées à nouveau.
}
notifications-replay-do = { $count ->
    [one] Rejouer 1 notification
   *[other] Rejouer { $count } notifications
}
notifications-replay-first = { $count ->
    [one] La première d'entre elles
   *[other] Les { $count } premières d'entre elles
}
notifications-replay-these = Ce sont :
notifications-cancel = Annuler
notifications-replayed = { $count ->
    [0] Aucune notification morte n'a été rejouée.
    [one] Une notification morte a été remise dans la file.
   *[other] { $count } notifications mortes ont été remises dans la file.
}
notifications-replayed-differs = { $counted ->
    [one] Une avait été comptée à la confirmation : la file a changé entre-temps.
   *[other] { $counted } avaient été comptées à la confirmation : la file a changé entre-temps.
}
channels-title = Canaux et routage
channels-channels = Canaux
channels-new = Nouveau canal
channels-new-title = Nouveau canal
channels-edit-title = Modifier le canal
channels-name = Nom
channels-kind = Type
channels-kind-unspecified = Inconnu
channels-kind-log = Journal
channels-kind-discord = Discord
channels-kind-email = E-mail
channels-kind-webhook = Webhook
channels-kind-hint = Un webhook envoie du JSON signé à une URL ; Discord envoie à l'URL d'un webhook Discord ; l'e-mail passe par le serveur SMTP configuré pour notify ; le journal n'a besoin de rien.
channels-target = Livre à
channels-log-target = le journal du service notify
channels-secret = Secret de signature
channels-has-secret = A un secret
channels-no-secret = Aucun
channels-state = État
channels-on = Actif
channels-off = Désactivé
channels-test = Envoyer un test
channels-test-title = Notification de test d'atmr
channels-test-body = Envoyée par { $who } pour vérifier ce canal.
channels-test-queued = Notification de test mise en file ; elle est livrée en arrière-plan.
channels-test-see = La voir dans la file d'envoi
channels-enable = Activer
channels-disable = Désactiver
channels-enabled-done = Canal activé :
channels-disabled-done = Canal désactivé :
channels-delete = Supprimer
channels-delete-confirm = Supprimer ce canal et ses règles de routage ? Ses notifications restent dans la file d'envoi.
channels-deleted = Canal supprimé, avec ses règles de routage.
channels-disabled-hint = Un canal désactivé garde ses réglages, mais ce qui lui est routé échoue aussitôt et est gardé comme mort.
channels-web = Webhook et Discord
channels-url = URL
channels-url-hint = Une adresse http:// ou https:// sur Internet. notify n'atteint pas les adresses privées (cette machine, le réseau local, le service de métadonnées d'un cloud) sauf si un opérateur les autorise.
channels-secret-input = Secret de signature (webhook)
channels-secret-hint = Facultatif : la clé de la signature HMAC-SHA256 que le webhook envoie. Elle n'est plus jamais affichée.
channels-secret-kept = Ce webhook a un secret : laissez le champ vide pour le garder, ou tapez-en un nouveau. Il n'est jamais affiché.
channels-secret-clear = Retirer le secret
channels-email = E-mail
channels-recipients = Destinataires
channels-recipients-hint = Une adresse par ligne (50 au plus).
channels-bad-name = Saisissez un nom de 1 à 100 caractères, sur une ligne.
channels-name-taken = Un canal porte déjà ce nom.
channels-bad-url = Saisissez une URL complète http:// ou https:// avec un hôte.
channels-url-private = notify refuse cette adresse : elle est privée (cette machine, le réseau local ou le service de métadonnées d'un cloud) et ne figure pas parmi celles qu'un opérateur a autorisées (NOTIFY_EGRESS_ALLOW).
channels-bad-secret = 200 caractères au plus, sur une ligne.
channels-bad-recipients = Saisissez au moins une adresse e-mail, une par ligne (50 au plus).
channels-bad-recipient = L'adresse { $n } n'est pas une adresse e-mail.
channels-bad-channel = Choisissez un des canaux de l'entreprise.
channels-email-needs-smtp = Les canaux e-mail ont besoin d'un serveur SMTP : notify n'en a pas de configuré (NOTIFY_SMTP_HOST).
channels-routes = Règles de routage
channels-routes-hint = Une notification envoyée sans canal va au canal de chaque règle active dont elle atteint le type d'événement et la gravité minimale ; si aucune ne correspond, au journal.
channels-min-severity = Gravité minimale
channels-every-event = tout type d'événement
channels-no-route = Aucune règle de routage : tout va au journal.
channels-route-new = Nouvelle règle de routage
channels-route-add = Ajouter la règle
channels-route-needs-channel = Créez d'abord un canal : une règle envoie à l'un des canaux de l'entreprise.
channels-event-hint = Laissez le type d'événement vide pour tous les types (p. ex. bugs.regression, safety.limit_reached, monitor.down).
channels-route-created = Règle de routage ajoutée.
channels-route-enabled = Règle de routage activée.
channels-route-disabled = Règle de routage désactivée : elle est gardée mais ne route plus rien.
channels-route-deleted = Règle de routage supprimée.
channels-route-delete-confirm = Supprimer cette règle de routage ?
channels-route-edit-title = Modifier la règle de routage
channels-route-enabled-label = Active (une règle désactivée ne route rien)
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
