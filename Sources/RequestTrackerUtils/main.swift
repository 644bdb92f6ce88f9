import Prefork

Prefork.main(application: RequestTrackerUtils())
