import Prefork
