declare const stub: any; export = stub;
