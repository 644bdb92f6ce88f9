import Prefork
import RequestTrackerUtilsApp

Prefork.main(application: RequestTrackerUtils())
