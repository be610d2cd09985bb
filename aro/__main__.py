from aro.cli import main

raise SystemExit(main())
