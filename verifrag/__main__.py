from verifrag.cli import main

raise SystemExit(main())
